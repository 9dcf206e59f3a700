"""Helpers for testing apps that use sessionward (see ``docs/testing.md``).

* :data:`BASE_URL` and :func:`same_origin`: the session cookie is ``Secure`` with the
  ``__Host-`` prefix, so a test client must speak HTTPS to get it back, and unsafe requests
  through the CSRF middleware need the headers a browser sends for a same-origin form.
* :func:`log_in` / :func:`alog_in`: put a test client in a logged-in session without driving
  the login form, and :func:`session_of` / :func:`asession_of` to read what the store holds for
  the client's session.
* :class:`FakeClock`: inject it into the manager and move time instead of sleeping.
* :func:`events`: the audit events a :class:`~sessionward.monitoring.MemorySink` saw, by kind.

Works with Starlette's and FastAPI's ``TestClient`` and ``httpx`` clients, Flask's (Werkzeug's)
test client and Django's test client, found by what the client has, not by importing them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from datetime import timedelta
from http.cookiejar import Cookie, CookieJar
from http.cookies import SimpleCookie
from typing import Any, TypeVar
from urllib.parse import urlsplit

from .core.client import ClientInfo
from .core.events import Event, EventKind
from .core.records import SessionRecord
from .core.session_tokens import session_key
from .manager import AsyncSessionManager, SessionManager
from .sinks import MemorySink

__all__ = [
    "BASE_URL",
    "FakeClock",
    "alog_in",
    "asession_of",
    "events",
    "log_in",
    "same_origin",
    "session_of",
]

#: The base URL to give a test client: HTTPS, so the ``Secure`` session cookie comes back.
#: (Starlette's ``TestClient`` defaults to ``http://testserver``, under which every request
#: is silently anonymous.)
BASE_URL = "https://testserver"

T = TypeVar("T")


class FakeClock:
    """A clock that moves only when told to. Inject it instead of sleeping in tests."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float | timedelta) -> None:
        """Move time forward by ``seconds`` (a number or a :class:`~datetime.timedelta`)."""
        step = seconds.total_seconds() if isinstance(seconds, timedelta) else float(seconds)
        if step < 0:
            raise ValueError("time does not run backwards")
        self._now += step


def same_origin(base_url: str = BASE_URL) -> dict[str, str]:
    """Headers a browser sends with a same-origin form post to ``base_url``: pass them on every
    unsafe request (POST, PUT, PATCH, DELETE) that goes through ``CSRFMiddleware``."""
    parts = urlsplit(base_url)
    return {"Origin": f"{parts.scheme}://{parts.netloc}", "Sec-Fetch-Site": "same-origin"}


def log_in(
    client: Any,
    manager: SessionManager | AsyncSessionManager,
    user_id: str,
    *,
    data: Mapping[str, Any] | None = None,
    client_info: ClientInfo | None = None,
) -> str:
    """Log ``client`` (a test client) in as ``user_id`` and return the new session's handle.

    The session is made through ``manager`` exactly as ``session.login()`` makes it (a login
    event is emitted), with ``data`` stored in it, and its cookie is put in the client's jar.
    The session records the User-Agent the client sends (so the User-Agent-change rule does not
    end it on the first request); pass ``client_info`` to record another.
    With an :class:`AsyncSessionManager` this runs the login on a fresh event loop; inside an
    async test use :func:`alog_in`, and for a store bound to one loop (Redis with its
    multiplexed connection) log in through your app or with :func:`alog_in` on the app's loop.
    """
    if isinstance(manager, AsyncSessionManager):
        return _run(alog_in(client, manager, user_id, data=data, client_info=client_info))
    session = manager.new_session(client_info or _client_info(client))
    session.login(user_id)
    session.update(data or {})
    manager.commit(session)
    return _hand_over(client, manager, session.token, session.handle)


async def alog_in(
    client: Any,
    manager: AsyncSessionManager,
    user_id: str,
    *,
    data: Mapping[str, Any] | None = None,
    client_info: ClientInfo | None = None,
) -> str:
    """:func:`log_in` for async tests (``httpx.AsyncClient`` and the like)."""
    session = manager.new_session(client_info or _client_info(client))
    await session.login(user_id)
    session.update(data or {})
    await manager.commit(session)
    return _hand_over(client, manager, session.token, session.handle)


def session_of(client: Any, manager: SessionManager | AsyncSessionManager) -> SessionRecord | None:
    """The record the store holds for the session in ``client``'s cookie jar, or ``None``.

    Read straight from the store: no event, no touch, so it does not disturb what a test
    asserts about events or last-seen times.
    """
    token = _cookie(client, manager.cookie.wire_name)
    if token is None:
        return None
    record: SessionRecord | None
    if isinstance(manager, AsyncSessionManager):
        record = _run(asession_of(client, manager))
    else:
        record = manager.store.get(session_key(token))
    return record


async def asession_of(client: Any, manager: AsyncSessionManager) -> SessionRecord | None:
    """:func:`session_of` for async tests."""
    token = _cookie(client, manager.cookie.wire_name)
    if token is None:
        return None
    record: SessionRecord | None = await manager.store.get(session_key(token))
    return record


def events(sink: MemorySink, kind: EventKind | str | None = None) -> list[Event]:
    """The events ``sink`` received, oldest first; only those of ``kind`` when given."""
    if kind is None:
        return list(sink.events)
    wanted = EventKind(kind)
    return [event for event in sink.events if event.kind is wanted]


def _run(awaitable: Coroutine[Any, Any, T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(awaitable)
    awaitable.close()
    raise RuntimeError("an event loop is running here: use 'await alog_in(...)' / asession_of")


def _hand_over(
    client: Any, manager: SessionManager | AsyncSessionManager, token: str | None, handle: Any
) -> str:
    if token is None or handle is None:
        raise RuntimeError("the login made no session")  # the manager refused (limit policy)
    _set_cookie(client, manager.cookie.wire_name, token)
    return str(handle)


def _client_info(client: Any) -> ClientInfo:
    """What the client will send as its User-Agent on every request."""
    headers = getattr(client, "headers", None)  # httpx, Starlette's TestClient
    if headers is not None and hasattr(headers, "get"):
        return ClientInfo(user_agent=headers.get("user-agent"))
    for name in ("environ_base", "defaults"):  # Werkzeug / Flask, Django
        environ = getattr(client, name, None)
        if isinstance(environ, Mapping):
            return ClientInfo(user_agent=environ.get("HTTP_USER_AGENT"))
    return ClientInfo()


def _set_cookie(client: Any, name: str, value: str) -> None:
    cookies = getattr(client, "cookies", None)
    jar = getattr(cookies, "jar", None)
    if isinstance(cookies, SimpleCookie):  # Django's test client
        cookies[name] = value
    elif hasattr(client, "set_cookie") and hasattr(client, "get_cookie"):  # Werkzeug / Flask
        client.set_cookie(name, value)
    elif isinstance(jar, CookieJar):  # httpx, Starlette's TestClient
        # As the browser would store it: host-only and Secure, so it goes back over HTTPS only.
        jar.set_cookie(
            Cookie(
                version=0, name=name, value=value, port=None, port_specified=False,
                domain="", domain_specified=False, domain_initial_dot=False,
                path="/", path_specified=True, secure=True, expires=None, discard=True,
                comment=None, comment_url=None, rest={"HttpOnly": ""}, rfc2109=False,
            )
        )  # fmt: skip
    else:
        raise TypeError(f"do not know how to set a cookie on {type(client).__name__}")


def _cookie(client: Any, name: str) -> str | None:
    cookies = getattr(client, "cookies", None)
    if isinstance(cookies, SimpleCookie):
        morsel = cookies.get(name)
        return morsel.value or None if morsel is not None else None
    if hasattr(client, "get_cookie"):
        cookie = client.get_cookie(name)
        return None if cookie is None else (cookie.value or None)
    if cookies is not None and hasattr(cookies, "get"):
        value = cookies.get(name)
        return value if isinstance(value, str) and value else None
    raise TypeError(f"do not know how to read a cookie from {type(client).__name__}")
