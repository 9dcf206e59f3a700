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
    request.session["bye"] = True  # a change, then a logout: the logout wins, no error
    request.sessionward.logout()  # type: ignore[attr-defined]
    return HttpResponseRedirect("/")


def plain(request: HttpRequest) -> HttpResponse:
    return HttpResponse("no session used")


@csrf_exempt
def fail(request: HttpRequest) -> HttpResponse:
    request.session["n"] = 99  # must not be saved: the response is a 500
    return HttpResponse("boom", status=500)


@csrf_exempt
def login_then_fail(request: HttpRequest) -> HttpResponse:
    request.sessionward.login("alice")  # type: ignore[attr-defined]
    return HttpResponse("boom", status=500)


@csrf_exempt
def revoked_meanwhile(request: HttpRequest) -> HttpResponse:
    # As if another request (logout elsewhere, an admin) ended this session while this one ran.
    manager = request.session.manager  # type: ignore[attr-defined]
    manager.revoke_user(request.sessionward.user_id)  # type: ignore[attr-defined]
    request.session["n"] = 5
    return HttpResponse("changed")


async def async_home(request: HttpRequest) -> HttpResponse:
    n = await request.session.aget("n")
    await request.session.aset("n", (n or 0) + 1)
    return HttpResponse(json.dumps({"n": n}), content_type="application/json")


async def async_logout(request: HttpRequest) -> HttpResponse:
    # What django.contrib.auth.alogout() does, then a message for the next page.
    await request.session.aflush()
    await request.session.aset("flash", "signed out")
    return HttpResponse("bye")


def store_fails(request: HttpRequest) -> HttpResponse:
    from sessionward import StoreUnavailable

    raise StoreUnavailable("connection reset")


def where(request: HttpRequest) -> HttpResponse:
    request.session["seen"] = True
    return HttpResponse(str(request.sessionward.client.ip))  # type: ignore[attr-defined]


urlpatterns = [
    path("fail", fail),
    path("login-then-fail", login_then_fail),
    path("revoked", revoked_meanwhile),
    path("async", async_home),
    path("async-logout", async_logout),
    path("where", where),
    path("store-fails", store_fails),
    path("", home),
    path("count", count),
    path("login", login),
    path("logout", logout),
    path("plain", plain),
]
