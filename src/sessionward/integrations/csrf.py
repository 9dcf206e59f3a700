"""CSRF protection for ASGI apps (:class:`CSRFMiddleware`) and WSGI apps (the sync twin
:class:`WSGICSRFMiddleware`); the decisions live in :mod:`sessionward.core.csrf`.

The CSRF middleware may sit on either side of the session middleware::

    app = SessionMiddleware(CSRFMiddleware(app, manager=manager, keys=keys), manager=manager)
    app = CSRFMiddleware(SessionMiddleware(app, manager=manager), manager=manager, keys=keys)

Inside, it checks the session already loaded. Outside, it registers its check in
``scope["sessionward.on_load"]`` and ``SessionMiddleware`` runs it right after loading, before
the app: the same check either way. Without any ``SessionMiddleware`` the first request raises
``ConfigurationError``.

Every form must carry the token: ``<input type="hidden" name="csrf_token"
value="{{ csrf_token(request) }}">``; scripts send it in the ``X-CSRF-Token`` header.
A rejected request never reaches the app: it gets a 403 (HTML, or JSON when the client
prefers it) and a ``csrf.rejected`` audit event with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..core import csrf, forms
from ..core.events import EventKind
from ..core.header_merge import merge_headers, raw_headers, text_headers
from ..core.keys import SecretKeyRing
from ..core.request import view_of_scope
from ..errors import ConfigurationError
from ..manager import AsyncSessionManager
from ._csrf_state import (
    STATE_KEY,
    CSRFState,
    csrf_token,
    make_config,
    needs_check,
    open_state,
    presession_cookie,
    session_from,
)
from ._csrf_wsgi import WSGICSRFMiddleware
from .asgi import ON_LOAD_KEY, ASGIApp, Message, Receive, Scope, Send

__all__ = ["STATE_KEY", "CSRFMiddleware", "CSRFState", "WSGICSRFMiddleware", "csrf_token"]


class CSRFMiddleware:
    """Reject cross-site unsafe requests to an ASGI app (403 plus an audit event)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        manager: AsyncSessionManager,
        keys: SecretKeyRing,
        origin: str | None = None,
        trusted_origins: Iterable[str] = (),
        exempt: Iterable[str] = (),
        max_body_bytes: int = 1024 * 1024,
    ) -> None:
        if not isinstance(manager, AsyncSessionManager):
            raise ConfigurationError("CSRFMiddleware needs the app's AsyncSessionManager")
        self.app = app
        self.manager = manager
        self.config = make_config(keys, origin, trusted_origins, exempt, max_body_bytes)
        self.cookie = presession_cookie(manager.cookie)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "session" not in scope:
            await self._register(scope, receive, send)
            return
        await self._protect(self.app, scope, receive, send)

    async def _register(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Outside ``SessionMiddleware``: have it run the check once the session is loaded."""

        def on_load(inner: ASGIApp) -> ASGIApp:
            async def protected(scope: Scope, receive: Receive, send: Send) -> None:
                await self._protect(inner, scope, receive, send)

            return protected

        hooks = scope.setdefault(ON_LOAD_KEY, [])
        hooks.append(on_load)

        unsafe = str(scope.get("method", "GET")).upper() not in csrf.SAFE_METHODS

        def unchecked() -> None:
            # No SessionMiddleware took the check, yet the app reads the body or answers an
            # unsafe request: never let it run unprotected. (A middleware in between may still
            # refuse the request itself with a 4xx/5xx, e.g. a bad Host.)
            if unsafe and any(hook is on_load for hook in hooks):
                raise ConfigurationError(
                    "CSRFMiddleware found no sessionward SessionMiddleware on this request: "
                    "add SessionMiddleware (or use add_sessionward(app, manager=..., csrf=...))"
                )

        async def guarded_receive() -> Message:
            unchecked()
            return await receive()

        async def guarded_send(message: Message) -> None:
            if message["type"] == "http.response.start" and int(message.get("status", 200)) < 400:
                unchecked()
            await send(message)

        await self.app(scope, guarded_receive, guarded_send)

    async def _protect(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        session = session_from(scope, "session", "CSRFMiddleware")
        view = view_of_scope(scope)
        state = open_state(self.config, self.cookie, self.manager, session, view)
        scope[STATE_KEY] = state
        method, path = view.method, view.path
        if needs_check(self.config, view):
            reason, receive = await self._check(scope, receive, state, method)
            if reason is not None:
                await self._reject(scope, send, state, reason, method, path)
                return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = state.response_headers()
                if extra:
                    message["headers"] = raw_headers(
                        merge_headers(text_headers(message.get("headers", [])), extra)
                    )
            await send(message)

        await app(scope, receive, send_with_cookie)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        view = view_of_scope(scope)
        scheme = view.scheme
        reason = csrf.check_websocket(
            app_origin=self.config.origin or csrf.origin_of(scheme, view.host),
            trusted=self.config.trusted_origins,
            origin=view.origin,
        )
        path = view.path
        if reason is None or path in self.config.exempt:
            await self.app(scope, receive, send)
            return
        session = scope.get("session")
        self.manager.emit(
            EventKind.CSRF_REJECTED,
            client=getattr(session, "client", None),
            reason=reason.value,
            method="WEBSOCKET",
            path=path[:200],
            handle=getattr(session, "handle", None),
            origin=(view.origin or "")[:200] or None,
        )
        # Closing before accepting makes the server answer the handshake with 403.
        await send({"type": "websocket.close", "code": 1008})

    async def _check(
        self, scope: Scope, receive: Receive, state: CSRFState, method: str
    ) -> tuple[csrf.Reason | None, Receive]:
        view = view_of_scope(scope)
        scheme = view.scheme
        reason = csrf.check_source(
            method,
            app_origin=self.config.origin or csrf.origin_of(scheme, view.host),
            trusted=self.config.trusted_origins,
            secure=view.secure,
            sec_fetch_site=view.sec_fetch_site,
            origin=view.origin,
            referer=view.referer,
        )
        if reason is not None:
            return reason, receive
        presented: str | bytes | None = view.header(csrf.HEADER_NAME)
        if presented is None:
            content_type = view.content_type
            if forms.is_form(content_type):
                presented, receive = await self._read_token(receive, content_type)
        return state.verify(presented), receive

    async def _read_token(
        self, receive: Receive, content_type: str | None
    ) -> tuple[bytes | None, Receive]:
        """Read the body until the token field is found; replay what was read to the app."""
        buffered: list[Message] = []
        body = bytearray()
        scan = forms.FormScan(None, False)
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            more = bool(message.get("more_body", False))
            scan = forms.scan_form(
                bytes(body), content_type, complete=not more, field=csrf.FIELD_NAME
            )
            if scan.done or not more or len(body) > self.config.max_body_bytes:
                break

        async def replay() -> Message:
            if buffered:
                return buffered.pop(0)
            return await receive()

        return scan.value, replay

    async def _reject(
        self,
        scope: Scope,
        send: Send,
        state: CSRFState,
        reason: csrf.Reason,
        method: str,
        path: str,
    ) -> None:
        view = view_of_scope(scope)
        self.manager.emit(
            EventKind.CSRF_REJECTED,
            client=state.session.client,
            reason=reason.value,
            user_id=state.user_id,
            method=method[:16],
            path=path[:200],
            handle=state.session.handle,
            origin=(view.origin or "")[:200] or None,
            sec_fetch_site=(view.sec_fetch_site or "")[:32] or None,
        )
        content_type, body = csrf.rejection(reason, view.header("accept"))
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", content_type.encode("latin-1")),
                    (b"content-length", str(len(body)).encode("latin-1")),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
