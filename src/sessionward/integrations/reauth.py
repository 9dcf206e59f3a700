"""Require a recent authentication before sensitive actions (change password, revoke, pay).

A session that was authenticated hours ago may be sitting in an unlocked browser, or have been
stolen; asking for the password again before an action that changes the account limits what
either can do. :func:`requires_recent_auth` wraps a Starlette-style endpoint (``request ->
response``): when the session is anonymous, was authenticated longer than ``max_age`` ago, or
was marked by an anomaly rule, the user is sent (303) to ``redirect_to?next=<this path>`` to
re-enter their password. That page verifies it and calls ``await session.reauthenticate()``,
which issues a new token (emitting ``session.reauthenticated``), then redirects to
:func:`safe_next` of the ``next`` parameter.

Any framework can use the underlying check, ``session.needs_reauthentication(max_age)``.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from ..session import BaseSession
from .asgi import Receive, Scope, Send

R = TypeVar("R")
Endpoint = Callable[..., Awaitable[R]]


class SeeOther:
    """A minimal ASGI 303 redirect, so this helper needs no web framework."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.status_code = 303

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [
                    (b"location", self.location.encode("latin-1")),
                    (b"cache-control", b"no-store"),
                    (b"content-length", b"0"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})


def safe_next(value: str | None, default: str = "/") -> str:
    """``value`` if it is a path on this site, else ``default`` (no open redirects).

    Refuses absolute and scheme-relative URLs (``//evil.example``), backslashes (which some
    browsers read as slashes) and control characters.
    """
    if not value or not value.startswith("/") or value.startswith("//"):
        return default
    if "\\" in value or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def reauth_location(scope: Scope, redirect_to: str) -> str:
    path = scope.get("path", "/")
    query = scope.get("query_string", b"")
    here = path + ("?" + query.decode("latin-1") if query else "")
    return f"{redirect_to}?next={quote(here, safe='/')}"


def requires_recent_auth(
    max_age: float | timedelta, *, redirect_to: str = "/reauth"
) -> Callable[[Endpoint[R]], Endpoint[Any]]:
    """Decorate an endpoint so it runs only for a session authenticated within ``max_age``.

    Works on Starlette endpoints (the request is the last positional argument, so methods work
    too) and on FastAPI path operations (called with keyword arguments: declare a ``Request``
    parameter). The redirect is a Starlette ``RedirectResponse`` when Starlette is installed,
    so FastAPI returns it as it is.
    """

    def decorate(endpoint: Endpoint[R]) -> Endpoint[Any]:
        @functools.wraps(endpoint)
        async def guarded(*args: Any, **kwargs: Any) -> Any:
            request = _find_request(args, kwargs, endpoint)
            scope: Scope = request.scope
            session = scope.get("session")
            if isinstance(session, BaseSession) and not session_needs(session, max_age):
                return await endpoint(*args, **kwargs)
            return _see_other(reauth_location(scope, redirect_to))

        return guarded

    return decorate


def _find_request(args: tuple[Any, ...], kwargs: dict[str, Any], endpoint: Any) -> Any:
    if args and hasattr(args[-1], "scope"):
        return args[-1]
    for value in kwargs.values():
        if hasattr(value, "scope") and hasattr(value, "url"):
            return value
    raise TypeError(
        f"requires_recent_auth: {getattr(endpoint, '__name__', endpoint)!r} received no "
        f"request; give it a `request: Request` parameter"
    )


def _see_other(location: str) -> Any:
    try:
        from starlette.responses import RedirectResponse
    except ImportError:  # pragma: no cover - plain ASGI without Starlette
        return SeeOther(location)
    return RedirectResponse(location, status_code=303, headers={"Cache-Control": "no-store"})


def session_needs(session: BaseSession, max_age: float | timedelta) -> bool:
    check = getattr(session, "needs_reauthentication", None)
    return True if check is None else bool(check(max_age))
