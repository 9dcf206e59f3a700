"""Security headers and the HTTP -> HTTPS redirect, for ASGI and WSGI apps.

``SecurityHeadersMiddleware`` adds the headers of :mod:`sessionward.core.headers` to every
response, with a fresh CSP nonce per response; templates read it with
``csp_nonce(request)`` and put it on each inline ``<script nonce="...">``. A header the app set
itself is left alone, so one route can carry its own CSP.

``HTTPSRedirectMiddleware`` answers plain-HTTP requests with a 308 to the HTTPS URL. Behind a
TLS-terminating proxy it believes ``X-Forwarded-Proto`` / ``Forwarded`` only from the
``trusted_proxies`` addresses, and tells the rest of the stack the real scheme, so HSTS, the
CSRF origin check and Secure cookies all see ``https``.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any

from ..core import transport
from ..core.header_merge import merge_headers, raw_headers, text_headers
from ..core.headers import SecurityHeaders, new_nonce
from ..core.proxies import TrustedProxies
from ..core.request import view_of_environ, view_of_scope
from ..errors import ConfigurationError
from .asgi import ASGIApp, Message, Receive, Scope, Send
from .wsgi import Environ, StartResponse, WSGIApp

NONCE_KEY = "sessionward.csp_nonce"
_BAD_HOST = b"Bad Request: missing or invalid Host header.\n"


def csp_nonce(request: Any) -> str:
    """This response's CSP nonce, from a Starlette ``Request``, an ASGI scope or WSGI environ."""
    scope = getattr(request, "scope", request)
    nonce = scope.get(NONCE_KEY) if isinstance(scope, MutableMapping) else None
    if not isinstance(nonce, str):
        raise ConfigurationError(
            "csp_nonce() found no nonce on this request; add SecurityHeadersMiddleware (or "
            "WSGISecurityHeadersMiddleware) around the app"
        )
    return nonce


def _check_headers(headers: SecurityHeaders | None) -> SecurityHeaders:
    if headers is None:
        return SecurityHeaders()
    if not isinstance(headers, SecurityHeaders):
        raise ConfigurationError("headers must be a sessionward.SecurityHeaders")
    return headers


class SecurityHeadersMiddleware:
    """Add HSTS (over HTTPS only), a nonce-based CSP and the other security headers."""

    def __init__(self, app: ASGIApp, *, headers: SecurityHeaders | None = None) -> None:
        self.app = app
        self.headers = _check_headers(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = new_nonce()
        scope[NONCE_KEY] = nonce
        secure = view_of_scope(scope).scheme == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = self.headers.headers(secure=secure, nonce=nonce)
                message["headers"] = raw_headers(
                    merge_headers(text_headers(message.get("headers", [])), extra, app_wins=True)
                )
            await send(message)

        await self.app(scope, receive, send_with_headers)


class WSGISecurityHeadersMiddleware:
    """The synchronous twin of :class:`SecurityHeadersMiddleware`."""

    def __init__(self, app: WSGIApp, *, headers: SecurityHeaders | None = None) -> None:
        self.app = app
        self.headers = _check_headers(headers)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        nonce = new_nonce()
        environ[NONCE_KEY] = nonce
        secure = view_of_environ(environ).scheme == "https"

        def start_with_headers(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            extra = self.headers.headers(secure=secure, nonce=nonce)
            return start_response(status, merge_headers(headers, extra, app_wins=True), exc_info)

        return self.app(environ, start_with_headers)


class _Redirect:
    def __init__(
        self,
        trusted_proxies: Iterable[str] | TrustedProxies,
        host: str | None,
        https_port: int | None,
        allowed_hosts: Iterable[str] | None,
    ) -> None:
        self.proxies = transport.parse_proxies(trusted_proxies)
        self.host = transport.check_host(host)
        self.allowed_hosts = transport.check_allowed_hosts(allowed_hosts)
        if https_port is not None and (
            isinstance(https_port, bool)
            or not isinstance(https_port, int)
            or not 1 <= https_port <= 65535
        ):
            raise ConfigurationError("https_port must be a port number (1-65535) or None")
        self.https_port = https_port


class HTTPSRedirectMiddleware(_Redirect):
    """Redirect plain-HTTP requests to HTTPS (308, so a POST stays a POST).

    ``host`` pins the redirect's host name; otherwise the request's ``Host`` is used, and
    ``allowed_hosts`` (recommended) limits it to your names: any other ``Host`` gets a 400 and
    is never reflected into a ``Location``. Redirects and refusals carry
    ``Cache-Control: no-store``.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        trusted_proxies: Iterable[str] | TrustedProxies = (),
        host: str | None = None,
        https_port: int | None = None,
        allowed_hosts: Iterable[str] | None = None,
    ) -> None:
        super().__init__(trusted_proxies, host, https_port, allowed_hosts)
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        view = view_of_scope(scope)
        real = transport.forwarded_scheme(
            "https" if view.secure else "http",
            peer=view.peer,
            proxies=self.proxies,
            # Every line: a proxy appends its own after the client's, and only that counts.
            x_forwarded_proto=view.lines("x-forwarded-proto"),
            forwarded=view.lines("forwarded"),
        )
        if real == "https":
            scope = dict(scope)
            scope["scheme"] = "wss" if scope["type"] == "websocket" else "https"
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        target = transport.redirect_target(
            view.host,
            view.path,
            bytes(scope.get("query_string", b"")).decode("latin-1"),
            host=self.host,
            port=self.https_port,
            allowed_hosts=self.allowed_hosts,
        )
        if target is None:
            await _send_plain(send, 400, _BAD_HOST, [])
            return
        await _send_plain(
            send, 308, b"Redirecting to HTTPS.\n", [(b"location", target.encode("latin-1"))]
        )


async def _send_plain(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                *headers,
                # A redirect built from request headers must never be stored by a cache and
                # replayed to someone else (nor a refusal): no-store on both.
                (b"cache-control", b"no-store"),
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode("latin-1")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class WSGIHTTPSRedirectMiddleware(_Redirect):
    """The synchronous twin of :class:`HTTPSRedirectMiddleware`."""

    def __init__(
        self,
        app: WSGIApp,
        *,
        trusted_proxies: Iterable[str] | TrustedProxies = (),
        host: str | None = None,
        https_port: int | None = None,
        allowed_hosts: Iterable[str] | None = None,
    ) -> None:
        super().__init__(trusted_proxies, host, https_port, allowed_hosts)
        self.app = app

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        view = view_of_environ(environ)
        real = transport.forwarded_scheme(
            "https" if view.scheme == "https" else "http",
            peer=view.peer,
            proxies=self.proxies,
            x_forwarded_proto=view.header("x-forwarded-proto"),
            forwarded=view.header("forwarded"),
        )
        if real == "https":
            environ["wsgi.url_scheme"] = "https"
            return self.app(environ, start_response)
        path = (
            str(environ.get("PATH_INFO", "/"))
            .encode("latin-1", "replace")
            .decode("utf-8", "replace")
        )
        target = transport.redirect_target(
            view.host,
            str(environ.get("SCRIPT_NAME", "")) + path,
            str(environ.get("QUERY_STRING", "")),
            host=self.host,
            port=self.https_port,
            allowed_hosts=self.allowed_hosts,
        )
        plain = [("Cache-Control", "no-store"), ("Content-Type", "text/plain; charset=utf-8")]
        if target is None:
            start_response("400 Bad Request", plain)
            return [_BAD_HOST]
        start_response("308 Permanent Redirect", [("Location", target), *plain])
        return [b"Redirecting to HTTPS.\n"]
