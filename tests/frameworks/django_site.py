"""A minimal URLconf for the middleware tests (settings: django_settings.py).

The views are CSRF-exempt: these tests are about the session, not the form protection."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

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


@csrf_exempt
def count(request: HttpRequest) -> HttpResponse:
    session = request.sessionward  # type: ignore[attr-defined]
    session["n"] = session.get("n", 0) + 1
    return HttpResponse(json.dumps({"n": session["n"]}), content_type="application/json")


@csrf_exempt
def login(request: HttpRequest) -> HttpResponse:
    request.sessionward.login("alice")  # type: ignore[attr-defined]
    return HttpResponseRedirect("/")


@csrf_exempt
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
