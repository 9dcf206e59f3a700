"""[django]: a one-file Django project logs in and out on SQLite."""

from __future__ import annotations

import tempfile
from pathlib import Path

import django
from _drive import login_logout, wsgi_call
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path

from sessionward import SessionManager, SQLiteStore

manager = SessionManager(SQLiteStore(Path(tempfile.mkdtemp()) / "s.sqlite3"))


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse(request.sessionward.user_id or "anonymous")  # type: ignore[attr-defined]


def login(request: HttpRequest) -> HttpResponse:
    request.sessionward.login("alice")  # type: ignore[attr-defined]
    return HttpResponse("alice")


def logout(request: HttpRequest) -> HttpResponse:
    request.sessionward.logout()  # type: ignore[attr-defined]
    return HttpResponse("bye")


urlpatterns = [path("", home), path("login", login), path("logout", logout)]

settings.configure(
    DEBUG=False,
    SECRET_KEY="smoke-test-only-" + "x" * 40,
    ALLOWED_HOSTS=["app.test"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[],
    MIDDLEWARE=[
        "django.middleware.security.SecurityMiddleware",
        "sessionward.integrations.django.SessionwardMiddleware",
    ],
    SESSIONWARD_MANAGER=f"{__name__}.manager",
    SECURE_PROXY_SSL_HEADER=None,
)
django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402  (after settings)

app = get_wsgi_application()
login_logout(lambda method, path, cookie: wsgi_call(app, method, path, cookie))
