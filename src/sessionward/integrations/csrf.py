"""CSRF protection for ASGI apps (:class:`CSRFMiddleware`) and WSGI apps (the sync twin
:class:`WSGICSRFMiddleware`); the decisions live in :mod:`sessionward.core.csrf`.

Place the CSRF middleware *inside* the session middleware, so the session is loaded first::

    app = SessionMiddleware(CSRFMiddleware(app, manager=manager, keys=keys), manager=manager)

Every form must carry the token: ``<input type="hidden" name="csrf_token"
value="{{ csrf_token(request) }}">``; scripts send it in the ``X-CSRF-Token`` header.
A rejected request never reaches the app: it gets a 403 (HTML, or JSON when the client
prefers it) and a ``csrf.rejected`` audit event with the reason.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, MutableMapping
from typing import Any

from ..core import csrf
from ..core.clock import Clock
from ..core.cookies import CookieConfig, dump_cookie, find_cookie
from ..core.events import EventKind
from ..core.keys import SecretKeyRing
from ..errors import ConfigurationError
from ..manager import AsyncSessionManager, SessionManager
from ..session import BaseSession
from .asgi import ASGIApp, Message, Receive, Scope, Send
from .wsgi import ENVIRON_KEY, Environ, StartResponse, WSGIApp

STATE_KEY = "sessionward.csrf"


class CSRFState:
    """Per-request CSRF state, shared by both shells: issues tokens, checks the one presented.

    Tokens are issued lazily (only pages that render a form pay for one) and bound to the
    session as it is *when the token is made*, so a token rendered after ``login()`` in the
    same request is already bound to the new session.
    """

    def __init__(
        self,
        config: csrf.CSRFConfig,
        cookie: CookieConfig,
        clock: Clock,
        session: BaseSession,
        cookie_header: str | bytes | None,
    ) -> None:
        self.config = config
        self.cookie = cookie
        self.clock = clock
        self.session = session
        lookup = find_cookie(cookie_header, cookie.cookie_name)
        self.nonce = csrf.read_presession(
            config.keys, lookup.value, clock.now(), config.presession_max_age
        )
        self.new_cookie: str | None = None

    @property
    def field_name(self) -> str:
        return csrf.FIELD_NAME

    @property
    def header_name(self) -> str:
        return csrf.HEADER_NAME

    def token(self) -> str:
        """A freshly masked token for a form or a script on this response."""
        record = self.session.record
        if record is not None:
            return csrf.issue_token(self.config.keys, csrf.session_binding(record.key))
        if self.nonce is None:
            self.nonce, self.new_cookie = csrf.new_presession(self.config.keys, self.clock.now())
        return csrf.issue_token(self.config.keys, csrf.presession_binding(self.nonce))

    def verify(self, presented: str | bytes | None) -> csrf.Reason | None:
        bindings = []
        record = self.session.record
        if record is not None:
            bindings.append(csrf.session_binding(record.key))
        if self.nonce is not None and (record is None or record.user_id is None):
            # The pre-session token covers only the way in (login, sign-up); once the session
            # is authenticated, only tokens bound to it count.
            bindings.append(csrf.presession_binding(self.nonce))
        reason = csrf.verify_token(self.config.keys, presented, bindings)
        if reason is csrf.Reason.TOKEN_INVALID and not bindings:
            return csrf.Reason.NO_BINDING
        return reason

    def response_headers(self) -> list[tuple[str, str]]:
        """The pre-session cookie, when this response issued a token bound to a new one.

        It is not cleared at login: it is useless from then on (see :meth:`verify`) and
        expires by itself.
        """
        if self.new_cookie is None:
            return []
        value = dump_cookie(self.cookie, self.new_cookie, max_age=self.config.presession_max_age)
        return [("set-cookie", value)]


def presession_cookie(session_cookie: CookieConfig) -> CookieConfig:
    """The pre-session cookie's settings: as secure as the session cookie, SameSite=Strict."""
    return CookieConfig(
        name=csrf.PRESESSION_COOKIE,
        host_prefix=session_cookie.host_prefix,
        secure=session_cookie.secure,
        http_only=True,
        same_site="strict",
    )


def csrf_token(request: Any) -> str:
    """A fresh token for a form, from a Starlette ``Request``, an ASGI scope or WSGI environ."""
    scope = getattr(request, "scope", request)
    state = scope.get(STATE_KEY) if isinstance(scope, MutableMapping) else None
    if not isinstance(state, CSRFState):
        raise ConfigurationError(
            "csrf_token() found no CSRF state on this request; add CSRFMiddleware (ASGI) or "
            "WSGICSRFMiddleware inside the session middleware"
        )
    return state.token()


def _config(
    keys: SecretKeyRing,
    origin: str | None,
    trusted_origins: Iterable[str],
    exempt: Iterable[str],
    max_body_bytes: int,
) -> csrf.CSRFConfig:
    return csrf.CSRFConfig(
        keys=keys,
        origin=origin,
        trusted_origins=trusted_origins,
        exempt=exempt,
        max_body_bytes=max_body_bytes,
    )


def _session_from(mapping: MutableMapping[str, Any], key: str, shell: str) -> BaseSession:
    session = mapping.get(key)
    if not isinstance(session, BaseSession):
        raise ConfigurationError(
            f"{shell} found no sessionward session; place it inside the session middleware "
            f"(the session must be loaded before CSRF is checked)"
        )
    return session


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


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
        self.config = _config(keys, origin, trusted_origins, exempt, max_body_bytes)
        self.cookie = presession_cookie(manager.cookie)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session = _session_from(scope, "session", "CSRFMiddleware")
        cookies = [bytes(v) for k, v in scope.get("headers", ()) if k == b"cookie"]
        state = CSRFState(
            self.config,
            self.cookie,
            self.manager.flows.clock,
            session,
            b"; ".join(cookies) if cookies else None,
        )
        scope[STATE_KEY] = state
        method = str(scope.get("method", "GET")).upper()
        path = str(scope.get("path", "/"))
        if method not in csrf.SAFE_METHODS and path not in self.config.exempt:
            reason, receive = await self._check(scope, receive, state, method)
            if reason is not None:
                await self._reject(scope, send, state, reason, method, path)
                return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = state.response_headers()
                if extra:
                    message["headers"] = [
                        *message.get("headers", []),
                        *((n.encode("latin-1"), v.encode("latin-1")) for n, v in extra),
                    ]
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    async def _check(
        self, scope: Scope, receive: Receive, state: CSRFState, method: str
    ) -> tuple[csrf.Reason | None, Receive]:
        scheme = str(scope.get("scheme", "http"))
        reason = csrf.check_source(
            method,
            app_origin=self.config.origin or csrf.origin_of(scheme, _header(scope, b"host")),
            trusted=self.config.trusted_origins,
            secure=scheme in ("https", "wss"),
            sec_fetch_site=_header(scope, b"sec-fetch-site"),
            origin=_header(scope, b"origin"),
            referer=_header(scope, b"referer"),
        )
        if reason is not None:
            return reason, receive
        presented: str | bytes | None = _header(scope, csrf.HEADER_NAME.encode())
        if presented is None:
            content_type = _header(scope, b"content-type")
            if csrf.is_form(content_type):
                presented, receive = await self._read_token(receive, content_type)
        return state.verify(presented), receive

    async def _read_token(
        self, receive: Receive, content_type: str | None
    ) -> tuple[bytes | None, Receive]:
        """Read the body until the token field is found; replay what was read to the app."""
        buffered: list[Message] = []
        body = bytearray()
        scan = csrf.FormScan(None, False)
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            more = bool(message.get("more_body", False))
            scan = csrf.scan_form(bytes(body), content_type, complete=not more)
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
        self.manager.emit(
            EventKind.CSRF_REJECTED,
            client=state.session.client,
            reason=reason.value,
            method=method[:16],
            path=path[:200],
            handle=state.session.handle,
            origin=(_header(scope, b"origin") or "")[:200] or None,
            sec_fetch_site=(_header(scope, b"sec-fetch-site") or "")[:32] or None,
        )
        content_type, body = csrf.rejection(reason, _header(scope, b"accept"))
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


class _Replay(io.RawIOBase):
    """A WSGI input stream: the bytes already read, then the rest of the original stream."""

    def __init__(self, head: bytes, rest: Any, remaining: int) -> None:
        self._head = memoryview(head)
        self._rest = rest
        self._remaining = remaining

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head.nbytes:
            n = min(len(buffer), self._head.nbytes)
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        if self._remaining <= 0:
            return 0
        chunk = self._rest.read(min(len(buffer), self._remaining))
        if not chunk:
            self._remaining = 0
            return 0
        self._remaining -= len(chunk)
        buffer[: len(chunk)] = chunk
        return len(chunk)


def _content_length(environ: Environ) -> int:
    try:
        return max(0, int(environ.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


class WSGICSRFMiddleware:
    """The synchronous twin of :class:`CSRFMiddleware` for WSGI apps."""

    def __init__(
        self,
        app: WSGIApp,
        *,
        manager: SessionManager,
        keys: SecretKeyRing,
        origin: str | None = None,
        trusted_origins: Iterable[str] = (),
        exempt: Iterable[str] = (),
        max_body_bytes: int = 1024 * 1024,
    ) -> None:
        if not isinstance(manager, SessionManager):
            raise ConfigurationError("WSGICSRFMiddleware needs the app's SessionManager")
        self.app = app
        self.manager = manager
        self.config = _config(keys, origin, trusted_origins, exempt, max_body_bytes)
        self.cookie = presession_cookie(manager.cookie)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        session = _session_from(environ, ENVIRON_KEY, "WSGICSRFMiddleware")
        state = CSRFState(
            self.config,
            self.cookie,
            self.manager.flows.clock,
            session,
            environ.get("HTTP_COOKIE"),
        )
        environ[STATE_KEY] = state
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        path = _wsgi_path(environ)
        if method not in csrf.SAFE_METHODS and path not in self.config.exempt:
            reason = self._check(environ, state, method)
            if reason is not None:
                return self._reject(environ, start_response, state, reason, method, path)

        def start_with_cookie(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], Any]:
            result: Callable[[bytes], Any] = start_response(
                status, [*headers, *state.response_headers()], exc_info
            )
            return result

        return self.app(environ, start_with_cookie)

    def _check(self, environ: Environ, state: CSRFState, method: str) -> csrf.Reason | None:
        scheme = str(environ.get("wsgi.url_scheme", "http"))
        reason = csrf.check_source(
            method,
            app_origin=self.config.origin or csrf.origin_of(scheme, environ.get("HTTP_HOST")),
            trusted=self.config.trusted_origins,
            secure=scheme == "https",
            sec_fetch_site=environ.get("HTTP_SEC_FETCH_SITE"),
            origin=environ.get("HTTP_ORIGIN"),
            referer=environ.get("HTTP_REFERER"),
        )
        if reason is not None:
            return reason
        presented: str | bytes | None = environ.get("HTTP_X_CSRF_TOKEN")
        if presented is None and csrf.is_form(environ.get("CONTENT_TYPE")):
            presented = self._read_token(environ)
        return state.verify(presented)

    def _read_token(self, environ: Environ) -> bytes | None:
        length = _content_length(environ)
        stream = environ["wsgi.input"]
        content_type = environ.get("CONTENT_TYPE")
        body = bytearray()
        scan = csrf.FormScan(None, False)
        while len(body) < length:
            chunk = stream.read(min(64 * 1024, length - len(body)))
            if not chunk:
                break
            body += chunk
            complete = len(body) >= length
            scan = csrf.scan_form(bytes(body), content_type, complete=complete)
            if scan.done or complete or len(body) > self.config.max_body_bytes:
                break
        environ["wsgi.input"] = io.BufferedReader(_Replay(bytes(body), stream, length - len(body)))
        return scan.value

    def _reject(
        self,
        environ: Environ,
        start_response: StartResponse,
        state: CSRFState,
        reason: csrf.Reason,
        method: str,
        path: str,
    ) -> Iterable[bytes]:
        self.manager.emit(
            EventKind.CSRF_REJECTED,
            client=state.session.client,
            reason=reason.value,
            method=method[:16],
            path=path[:200],
            handle=state.session.handle,
            origin=(environ.get("HTTP_ORIGIN") or "")[:200] or None,
            sec_fetch_site=(environ.get("HTTP_SEC_FETCH_SITE") or "")[:32] or None,
        )
        content_type, body = csrf.rejection(reason, environ.get("HTTP_ACCEPT"))
        start_response(
            "403 Forbidden",
            [
                ("Content-Type", content_type),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
            ],
        )
        return [body]


def _wsgi_path(environ: Environ) -> str:
    # PEP 3333 hands PATH_INFO over as latin-1-decoded bytes; re-decode it as UTF-8 like ASGI.
    raw = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", "")) or "/"
    return raw.encode("latin-1", "replace").decode("utf-8", "replace")
