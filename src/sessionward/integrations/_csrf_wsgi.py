"""The WSGI twin of the CSRF middleware (exported from :mod:`sessionward.integrations.csrf`)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from ..core import csrf, forms
from ..core.events import EventKind
from ..core.header_merge import merge_headers
from ..core.keys import SecretKeyRing
from ..core.request import view_of_environ
from ..errors import ConfigurationError
from ..manager import SessionManager
from ._csrf_state import (
    STATE_KEY,
    CSRFState,
    make_config,
    needs_check,
    open_state,
    presession_cookie,
    session_from,
)
from .wsgi import ENVIRON_KEY, Environ, StartResponse, WSGIApp


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
        self.config = make_config(keys, origin, trusted_origins, exempt, max_body_bytes)
        self.cookie = presession_cookie(manager.cookie)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        session = session_from(environ, ENVIRON_KEY, "WSGICSRFMiddleware")
        view = view_of_environ(environ)
        state = open_state(self.config, self.cookie, self.manager, session, view)
        environ[STATE_KEY] = state
        method, path = view.method, view.path
        if needs_check(self.config, view):
            reason = self._check(environ, state, method)
            if reason is not None:
                return self._reject(environ, start_response, state, reason, method, path)

        def start_with_cookie(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], Any]:
            extra = state.response_headers()
            if extra:
                headers = merge_headers(headers, extra)
            result: Callable[[bytes], Any] = start_response(status, headers, exc_info)
            return result

        return self.app(environ, start_with_cookie)

    def _check(self, environ: Environ, state: CSRFState, method: str) -> csrf.Reason | None:
        view = view_of_environ(environ)
        reason = csrf.check_source(
            method,
            app_origin=self.config.origin or csrf.origin_of(view.scheme, view.host),
            trusted=self.config.trusted_origins,
            secure=view.scheme == "https",
            sec_fetch_site=view.sec_fetch_site,
            origin=view.origin,
            referer=view.referer,
        )
        if reason is not None:
            return reason
        presented: str | bytes | None = view.header(csrf.HEADER_NAME)
        if presented is None and forms.is_form(view.content_type):
            presented = self._read_token(environ)
        return state.verify(presented)

    def _read_token(self, environ: Environ) -> bytes | None:
        length = _content_length(environ)
        stream = environ["wsgi.input"]
        content_type = view_of_environ(environ).content_type
        body = bytearray()
        scan = forms.FormScan(None, False)
        while len(body) < length:
            chunk = stream.read(min(64 * 1024, length - len(body)))
            if not chunk:
                break
            body += chunk
            complete = len(body) >= length
            scan = forms.scan_form(
                bytes(body), content_type, complete=complete, field=csrf.FIELD_NAME
            )
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
            user_id=state.user_id,
            method=method[:16],
            path=path[:200],
            handle=state.session.handle,
            origin=(view_of_environ(environ).origin or "")[:200] or None,
            sec_fetch_site=(view_of_environ(environ).sec_fetch_site or "")[:32] or None,
        )
        content_type, body = csrf.rejection(reason, view_of_environ(environ).header("accept"))
        start_response(
            "403 Forbidden",
            [
                ("Content-Type", content_type),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
            ],
        )
        return [body]
