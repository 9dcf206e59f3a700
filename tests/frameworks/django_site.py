"""A minimal Django project for the integration tests (settings are made in the test)."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path

from sessionward import SessionManager

#: The manager the next middleware instance uses; each test installs a fresh one.
CURRENT: SessionManager | None = None


def make_manager() -> SessionManager:
    if CURRENT is None:
        raise RuntimeError("a test must set django_site.CURRENT first")
    return CURRENT


def home(request: HttpRequest) -> HttpResponse:
    session = request.sessionward  # type: ignore[attr-defined]
    body = {"user": session.user_id, "n": session.get("n")}
    return HttpResponse(json.dumps(body), content_type="application/json")


def count(request: HttpRequest) -> HttpResponse:
    session = request.sessionward  # type: ignore[attr-defined]
    session["n"] = session.get("n", 0) + 1
    return HttpResponse(json.dumps({"n": session["n"]}), content_type="application/json")


def login(request: HttpRequest) -> HttpResponse:
    request.sessionward.login("alice")  # type: ignore[attr-defined]
    return HttpResponseRedirect("/")


def logout(request: HttpRequest) -> HttpResponse:
    request.sessionward.logout()  # type: ignore[attr-defined]
    return HttpResponseRedirect("/")


def plain(request: HttpRequest) -> HttpResponse:
    return HttpResponse("no session used")


urlpatterns = [
    path("", home),
    path("count", count),
    path("login", login),
    path("logout", logout),
    path("plain", plain),
]
