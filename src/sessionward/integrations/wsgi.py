"""WSGI middleware over the synchronous manager.

The session is at ``environ["sessionward.session"]`` (a :class:`~sessionward.Session`); the
app calls ``session.login(user_id)``, ``session.logout()`` and so on. Headers are added when
the app calls ``start_response``.
"""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Callable, Iterable
from typing import Any

from ..core.client import ClientInfo
from ..core.header_merge import merge_headers
from ..core.request import view_of_environ
from ..errors import GuessingBlocked, StoreUnavailable
from ..manager import SessionManager

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]
ENVIRON_KEY = "sessionward.session"

logger = logging.getLogger("sessionward")
_UNAVAILABLE_BODY = b"Session store unavailable; please retry shortly.\n"
_TOO_MANY_BODY = b"Too many invalid session cookies from your address; please retry later.\n"
_UNAVAILABLE_HEADERS = [
    ("Content-Type", "text/plain; charset=utf-8"),
    ("Retry-After", "5"),
    ("Cache-Control", "no-store"),
]


def client_from_environ(environ: Environ) -> ClientInfo:
    view = view_of_environ(environ)
    return ClientInfo.from_raw(view.peer, view.header("user-agent"))


class WSGISessionMiddleware:
    """Server-side sessions for a WSGI app."""

    def __init__(
        self,
        app: WSGIApp,
        *,
        manager: SessionManager,
        client_resolver: Callable[[Environ], ClientInfo] = client_from_environ,
    ) -> None:
        if not isinstance(manager, SessionManager):
            raise TypeError("WSGISessionMiddleware needs a SessionManager (the sync twin)")
        self.app = app
        self.manager = manager
        self.client_resolver = client_resolver

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        client = self.client_resolver(environ)
        try:
            session = self.manager.load(view_of_environ(environ).cookie, client)
        except GuessingBlocked as blocked:
            # A blocked guesser's address presented a forged or dead ID (never a live
            # session): 429, clearing that cookie (see the ASGI middleware).
            retry = ("Retry-After", str(max(1, math.ceil(blocked.retry_after))))
            start_response(
                "429 Too Many Requests",
                [_UNAVAILABLE_HEADERS[0], retry, _UNAVAILABLE_HEADERS[2], *blocked.headers],
            )
            return [_TOO_MANY_BODY]
        except StoreUnavailable as exc:
            logger.warning("sessionward: store unavailable while loading a session: %s", exc)
            start_response("503 Service Unavailable", _UNAVAILABLE_HEADERS)
            return [_UNAVAILABLE_BODY]
        environ[ENVIRON_KEY] = session
        failed = False

        def start_with_session(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            nonlocal failed
            try:
                if status[:1] == "5":
                    extra = self.manager.failed_response_headers(session)
                else:
                    extra = self.manager.commit(session)
            except StoreUnavailable as exc:
                logger.warning("sessionward: store unavailable while saving: %s", exc)
                failed = True
                return start_response("503 Service Unavailable", _UNAVAILABLE_HEADERS, exc_info)
            return start_response(status, merge_headers(headers, extra), exc_info)

        try:
            body = self.app(environ, start_with_session)
        except StoreUnavailable as exc:
            # A session operation inside the app (login, logout, revoke) could not reach the
            # store: the same 503 as a failed load, not a 500 traceback.
            logger.warning("sessionward: store unavailable inside the app: %s", exc)
            start_response("503 Service Unavailable", _UNAVAILABLE_HEADERS, sys.exc_info())
            return [_UNAVAILABLE_BODY]
        if failed:
            close = getattr(body, "close", None)
            if close is not None:
                close()
            return [_UNAVAILABLE_BODY]
        return body
