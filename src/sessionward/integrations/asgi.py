"""Pure ASGI middleware for Starlette, FastAPI and any ASGI app.

The session is loaded before the app runs and is available as ``scope["session"]`` (so
Starlette's ``request.session`` works) and is committed when the app starts its response.
Application code uses the session's own async operations::

    await request.session.login(user.id)
    await request.session.logout()

A store failure becomes a 503 with ``Retry-After``: a page that needs the session is never
served as anonymous because the store was unreachable.

A middleware that needs the loaded session but runs *outside* ``SessionMiddleware`` (e.g.
``CSRFMiddleware`` added with ``add_middleware`` in reading order) appends a wrapper to
``scope["sessionward.on_load"]`` (:data:`ON_LOAD_KEY`): a function taking the inner ASGI app and
returning an ASGI app. ``SessionMiddleware`` applies those wrappers, in the order they were
registered (the first registered runs first), right after loading the session and before the
app; a wrapper may answer the request itself (a 403) instead of calling the app.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from ..core.client import ClientInfo
from ..core.header_merge import merge_headers, raw_headers
from ..core.request import RequestView, view_of_scope
from ..errors import ConfigurationError, GuessingBlocked, StoreUnavailable
from ..manager import AsyncSessionManager
from ..session import AsyncSession
from ..sink_dispatch import after_response, may_defer

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
ClientResolver = Callable[[Scope], ClientInfo]
OnLoad = Callable[[ASGIApp], ASGIApp]

#: The scope key where middlewares outside ``SessionMiddleware`` register their
#: ``OnLoad`` wrappers (a list); ``SessionMiddleware`` runs them after loading the session.
ON_LOAD_KEY = "sessionward.on_load"

logger = logging.getLogger("sessionward")
_UNAVAILABLE = b"Session store unavailable; please retry shortly.\n"
_TOO_MANY = b"Too many invalid session cookies from your address; please retry later.\n"


def client_from_scope(scope: Scope) -> ClientInfo:
    """The peer address and User-Agent of an ASGI connection, without proxy headers.

    Behind a reverse proxy, pass a resolver that trusts forwarded headers only from your
    proxies' addresses.
    """
    return _client_of(view_of_scope(scope))


def _client_of(view: RequestView) -> ClientInfo:
    return ClientInfo.from_raw(view.peer, view.header("user-agent"))


def cookie_header(scope: Scope) -> bytes | None:
    """All Cookie header lines of a request joined as one (HTTP/2 may split them)."""
    return _cookie_of(view_of_scope(scope))


def _cookie_of(view: RequestView) -> bytes | None:
    cookie = view.cookie
    return cookie if isinstance(cookie, bytes) else None


def _own_bytes(headers: Any) -> list[tuple[bytes, bytes]]:
    """The app's header pairs with exact ``bytes`` names and values (a server or app may hand
    over ``bytearray``), so the merge can compare and hash them."""
    out: list[tuple[bytes, bytes]] = []
    for name, value in headers:
        if type(name) is bytes and type(value) is bytes:
            out.append((name, value))
        else:
            out.append((bytes(name), bytes(value)))
    return out


async def send_unavailable(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"retry-after", b"5"),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": _UNAVAILABLE})


async def send_too_many(
    send: Send, retry_after: float, extra: tuple[tuple[str, str], ...] = ()
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"retry-after", str(max(1, math.ceil(retry_after))).encode("ascii")),
                (b"cache-control", b"no-store"),
                *((k.encode("latin-1"), v.encode("latin-1")) for k, v in extra),
            ],
        }
    )
    await send({"type": "http.response.body", "body": _TOO_MANY})


class SessionMiddleware:
    """Server-side sessions for an ASGI app."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        manager: AsyncSessionManager,
        client_resolver: ClientResolver = client_from_scope,
    ) -> None:
        if not isinstance(manager, AsyncSessionManager):
            raise TypeError("SessionMiddleware needs an AsyncSessionManager (ASGI is async)")
        self.app = app
        self.manager = manager
        self.client_resolver = client_resolver

    def _flushing_at_shutdown(self, send: Send) -> Send:
        """Deliver the events still queued for the sinks before the server reports shutdown."""

        async def send_after_flush(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                await self.manager.aclose()
            await send(message)

        return send_after_flush

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._flushing_at_shutdown(send))
        elif scope["type"] in ("http", "websocket"):
            if may_defer(self.manager.flows.observer.sinks):
                # Slow sinks run off the loop; the request's task ends (after its response has
                # been sent) once the events it caused are recorded.
                async with after_response():
                    await self._serve(scope, receive, send)
            else:  # every sink is delivered inline: nothing to wait for
                await self._serve(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Taken before loading, so the registering middleware can tell it was seen even when
        # the load fails (a 429 or 503 then answers and the wrappers never run).
        app = self._with_on_load(scope)
        if self.client_resolver is client_from_scope:  # the default: one view for both
            view = view_of_scope(scope)
            client = _client_of(view)
        else:
            client = self.client_resolver(scope)
            view = view_of_scope(scope)
        cookies = _cookie_of(view)
        try:
            session = await self.manager.load(cookies, client)
        except GuessingBlocked as blocked:
            # A blocked guesser's address presented a forged or dead ID (a live session is
            # never refused): 429, clearing that cookie so a genuine user behind the same
            # address reaches the login page on the next request. Other clients are unaffected.
            if scope["type"] == "http":
                await send_too_many(send, blocked.retry_after, blocked.headers)
            else:
                await send({"type": "websocket.close", "code": 1008})
            return
        except StoreUnavailable as exc:
            logger.warning("sessionward: store unavailable while loading a session: %s", exc)
            if scope["type"] == "http":
                await send_unavailable(send)
            else:
                await send({"type": "websocket.close", "code": 1013})
            return
        scope["session"] = session
        scope["sessionward.manager"] = self.manager
        if scope["type"] == "websocket":
            # A WebSocket cannot set cookies; it may read the session to authorise itself.
            await app(scope, receive, send)
            return

        failed = started = False

        async def send_with_session(message: Message) -> None:
            nonlocal failed, started
            if failed:
                return
            if message["type"] == "http.response.start":
                started = True
                try:
                    if message.get("status", 200) >= 500:
                        extra = self.manager.failed_response_headers(session)
                    else:
                        extra = await self.manager.commit(session)
                except StoreUnavailable as exc:
                    logger.warning("sessionward: store unavailable while saving: %s", exc)
                    failed = True
                    await send_unavailable(send)
                    return
                if extra:
                    message["headers"] = merge_headers(
                        _own_bytes(message.get("headers", ())), raw_headers(extra)
                    )
            await send(message)

        try:
            await app(scope, receive, send_with_session)
        except StoreUnavailable as exc:
            # A session operation inside the app (login, logout, revoke) could not reach the
            # store: the same 503 as a failed load, not a 500 traceback.
            if started:
                raise
            logger.warning("sessionward: store unavailable inside the app: %s", exc)
            await send_unavailable(send)

    def _with_on_load(self, scope: Scope) -> ASGIApp:
        """The app wrapped by the checks registered in ``scope[ON_LOAD_KEY]`` (taken once)."""
        hooks = scope.get(ON_LOAD_KEY)
        app = self.app
        if not hooks:
            return app
        pending = list(hooks)
        hooks.clear()  # a nested SessionMiddleware must not run them twice
        for hook in reversed(pending):
            app = hook(app)
        return app


def session_of(request: Any) -> AsyncSession:
    """``request.session`` typed as the :class:`~sessionward.AsyncSession` it is.

    Takes a Starlette/FastAPI ``Request`` (or an ASGI scope). Raises ``ConfigurationError`` when
    ``SessionMiddleware`` did not run for this request (not installed, or installed inside a
    middleware that needs the session: see :func:`add_sessionward`).
    """
    scope = getattr(request, "scope", request)
    session = scope.get("session") if isinstance(scope, MutableMapping) else None
    if not isinstance(session, AsyncSession):
        raise ConfigurationError(
            "no sessionward session on this request: add SessionMiddleware (or call "
            "add_sessionward(app, manager=...)) so it runs before this code"
        )
    return session


def add_sessionward(
    app: Any,
    *,
    manager: AsyncSessionManager,
    csrf: Mapping[str, Any] | None = None,
    security_headers: Mapping[str, Any] | None = None,
    client_resolver: ClientResolver = client_from_scope,
) -> None:
    """Add sessionward's middlewares to a Starlette or FastAPI app, in the order they need.

    ``add_middleware`` makes the *last* middleware added the outermost, so adding them in
    reading order would put CSRF outside the session it checks. This adds, from outermost:
    ``SecurityHeadersMiddleware`` (when ``security_headers`` is given, e.g. ``{}``),
    ``SessionMiddleware``, then ``CSRFMiddleware`` (when ``csrf`` is given, e.g.
    ``{"keys": SecretKeyRing([...])}``). Other middlewares may be added before or after.
    """
    from .csrf import CSRFMiddleware
    from .headers import SecurityHeadersMiddleware

    if csrf is not None:
        app.add_middleware(CSRFMiddleware, manager=manager, **dict(csrf))
    app.add_middleware(SessionMiddleware, manager=manager, client_resolver=client_resolver)
    if security_headers is not None:
        app.add_middleware(SecurityHeadersMiddleware, **dict(security_headers))
