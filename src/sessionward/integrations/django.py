"""Django integration: a middleware that gives each request ``request.sessionward``.

settings.py::

    MIDDLEWARE = [
        "django.middleware.security.SecurityMiddleware",
        "sessionward.integrations.django.SessionwardMiddleware",
        ...
    ]
    SESSIONWARD_MANAGER = "myproject.sessions.manager"   # a SessionManager, or a callable
                                                         # returning one

views::

    def login_view(request):
        user = authenticate(...)                 # your password check
        request.sessionward.login(str(user.pk))  # new token; the old one dies at once

    def logout_view(request):
        request.sessionward.logout()

The middleware replaces ``django.contrib.sessions`` for authentication state: it writes the
cookie through sessionward's own audited writer, with the manager's
:class:`~sessionward.CookieConfig`. It runs synchronously (Django runs it in a thread under
ASGI). A store outage answers 503.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from http.cookies import Morsel
from typing import Any

try:
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.http import HttpRequest, HttpResponse
    from django.utils.cache import patch_vary_headers
    from django.utils.module_loading import import_string
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "sessionward.integrations.django needs Django: pip install 'sessionward[django]'"
    ) from exc

from ..errors import GuessingBlocked, StoreUnavailable
from ..manager import SessionManager
from .wsgi import client_from_environ

logger = logging.getLogger("sessionward")
SETTING = "SESSIONWARD_MANAGER"


def manager_from_settings() -> SessionManager:
    """Resolve ``settings.SESSIONWARD_MANAGER`` (an instance, a dotted path, or a factory)."""
    value: Any = getattr(settings, SETTING, None)
    if value is None:
        raise ImproperlyConfigured(
            f"set {SETTING} to a sessionward.SessionManager or the dotted path of one, e.g. "
            f"'myproject.sessions.manager'"
        )
    if isinstance(value, str):
        try:
            value = import_string(value)
        except ImportError as exc:
            raise ImproperlyConfigured(f"{SETTING}={value!r} cannot be imported: {exc}") from exc
    if callable(value) and not isinstance(value, SessionManager):
        value = value()
    if not isinstance(value, SessionManager):
        raise ImproperlyConfigured(
            f"{SETTING} must name a sessionward.SessionManager (the sync twin), "
            f"not {type(value).__name__}"
        )
    return value


def _unavailable() -> HttpResponse:
    response = HttpResponse(
        "Session store unavailable; please retry shortly.\n",
        status=503,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = "5"
    response["Cache-Control"] = "no-store"
    return response


def _too_many(retry_after: float) -> HttpResponse:
    # A client guessing session IDs: refused until its block ends; other clients unaffected.
    response = HttpResponse(
        "Too many unknown session IDs from this address; retry later.\n",
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(max(1, math.ceil(retry_after)))
    response["Cache-Control"] = "no-store"
    return response


class SessionwardMiddleware:
    """Load the session before the view, commit it and add its headers after."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.manager = manager_from_settings()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            session = self.manager.load(
                request.META.get("HTTP_COOKIE"), client_from_environ(request.META)
            )
        except GuessingBlocked as blocked:
            return _too_many(blocked.retry_after)
        except StoreUnavailable as exc:
            logger.warning("sessionward: store unavailable while loading a session: %s", exc)
            return _unavailable()
        request.sessionward = session
        response = self.get_response(request)
        try:
            extra = self.manager.commit(session)
        except StoreUnavailable as exc:
            logger.warning("sessionward: store unavailable while saving: %s", exc)
            return _unavailable()
        for name, value in extra:
            if name == "vary":
                patch_vary_headers(response, [v.strip() for v in value.split(",")])
            elif name == "set-cookie":
                morsel = _WrittenCookie(value)
                response.cookies[morsel.key] = morsel
            else:
                response[name] = value
        return response


class _WrittenCookie(Morsel[str]):
    """Carries a header written by sessionward's cookie writer through ``response.cookies``.

    Django emits cookies (and its test client reads them) only from ``response.cookies``; this
    morsel outputs exactly the string ``dump_cookie`` produced instead of re-encoding it.
    """

    def __init__(self, header: str) -> None:
        super().__init__()
        name, _, rest = header.partition("=")
        value = rest.split(";", 1)[0]
        self.set(name, value, value)
        self._header = header

    def OutputString(self, attrs: Any = None) -> str:  # the http.cookies API name
        return self._header
