"""Bearer-token authentication for ASGI and WSGI apps (RFC 6750), framework-neutral.

:func:`bearer_token` reads an ``Authorization`` header; :func:`challenge` writes the one
``WWW-Authenticate`` value every refusal carries; :class:`BearerMiddleware` (ASGI) and
:class:`WSGIBearerMiddleware` protect a whole app or route with a token manager, putting the
verified :class:`~sessionward.tokens.AccessClaims` in ``scope["sessionward.token"]`` /
``environ["sessionward.token"]``.

Every refusal is a 401 with ``WWW-Authenticate: Bearer realm=..., error=...`` and a small JSON
body; a store outage is a 503 as for sessions. Nothing a client sends turns into a 500.

Bearer-authenticated routes carry no ambient credential (the browser does not attach the
header by itself), so they need no CSRF token; routes that read the refresh *cookie* do.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from ..core.client import ClientInfo
from ..core.request import view_of_environ, view_of_scope
from ..errors import StoreUnavailable
from ..tokens.access import AccessClaims
from ..tokens.errors import InvalidRequest, MissingToken, TokenError
from ..tokens.manager import AsyncTokenManager, TokenManager
from .asgi import client_from_scope, send_unavailable
from .wsgi import client_from_environ

SCOPE_KEY = "sessionward.token"
MAX_AUTHORIZATION = 8 * 1024
# RFC 6750 section 2.1: b64token
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
# RFC 6750 section 3: realm and error_description use %x20-21 / %x23-5B / %x5D-7E
_QUOTABLE = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")

logger = logging.getLogger("sessionward")
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def bearer_token(authorization: str | bytes | None) -> str:
    """The token of a ``Bearer`` Authorization header; raise a :class:`TokenError` if none."""
    if authorization is None or authorization in ("", b""):
        raise MissingToken()
    if isinstance(authorization, bytes):
        authorization = authorization.decode("latin-1")
    if len(authorization) > MAX_AUTHORIZATION:
        raise InvalidRequest("size", "The Authorization header is too large.")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise MissingToken()  # another scheme: no bearer credentials were offered
    token = token.strip()
    if not _B64TOKEN.fullmatch(token):
        raise InvalidRequest("syntax", "The Authorization header is malformed.")
    return token


def challenge(error: TokenError | None, *, realm: str = "api") -> str:
    """The ``WWW-Authenticate`` value for a refusal (RFC 6750 section 3)."""
    if not _QUOTABLE.fullmatch(realm):
        raise ValueError("realm must be printable ASCII without quotes or backslashes")
    parts = [f'Bearer realm="{realm}"']
    if error is not None and error.error is not None:
        description = error.description
        if not _QUOTABLE.fullmatch(description):
            description = "The request was refused."
        # RFC 6750 knows invalid_request / invalid_token / insufficient_scope; a refused
        # refresh token (RFC 6749 invalid_grant, in the body) is an invalid token here.
        code = "invalid_token" if error.error == "invalid_grant" else error.error
        parts.append(f'error="{code}"')
        parts.append(f'error_description="{description}"')
    return ", ".join(parts)


def error_body(error: TokenError) -> bytes:
    body = {"error": error.error or "unauthorized", "error_description": error.description}
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


def unauthorized(error: TokenError, *, realm: str = "api") -> tuple[int, list[tuple[str, str]]]:
    """Status and headers of the 401 for ``error`` (400 is never used: clients retry on 401)."""
    return 401, [
        ("www-authenticate", challenge(error, realm=realm)),
        ("content-type", "application/json"),
        ("cache-control", "no-store"),
    ]


def _authorization(scope: Scope) -> str | None:
    found = view_of_scope(scope).lines("authorization")
    if len(found) > 1:
        raise InvalidRequest("duplicate", "The Authorization header is malformed.")
    return found[0] if found else None


async def authenticate(
    tokens: AsyncTokenManager, scope: Scope, client: ClientInfo | None = None
) -> AccessClaims:
    """Verify the bearer token of an ASGI request; raise :class:`TokenError` when refused."""
    token = bearer_token(_authorization(scope))
    return await tokens.verify(token, client or client_from_scope(scope))


async def send_unauthorized(send: Send, error: TokenError, *, realm: str) -> None:
    status, headers = unauthorized(error, realm=realm)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(n.encode("latin-1"), v.encode("latin-1")) for n, v in headers],
        }
    )
    await send({"type": "http.response.body", "body": error_body(error)})


class BearerMiddleware:
    """Require a valid access token for every HTTP request to the wrapped ASGI app."""

    def __init__(self, app: ASGIApp, *, tokens: AsyncTokenManager, realm: str = "api") -> None:
        if not isinstance(tokens, AsyncTokenManager):
            raise TypeError("BearerMiddleware needs an AsyncTokenManager")
        challenge(None, realm=realm)  # validates the realm at start-up
        self.app = app
        self.tokens = tokens
        self.realm = realm

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        try:
            claims = await authenticate(self.tokens, scope)
        except TokenError as exc:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            else:
                await send_unauthorized(send, exc, realm=self.realm)
            return
        except StoreUnavailable as exc:
            logger.warning("sessionward: store unavailable while verifying a token: %s", exc)
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1013})
            else:
                await send_unavailable(send)
            return
        scope[SCOPE_KEY] = claims
        await self.app(scope, receive, send)


Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


def authenticate_wsgi(tokens: TokenManager, environ: Environ) -> AccessClaims:
    """Verify the bearer token of a WSGI request; raise :class:`TokenError` when refused."""
    token = bearer_token(view_of_environ(environ).authorization)
    return tokens.verify(token, client_from_environ(environ))


class WSGIBearerMiddleware:
    """The WSGI twin of :class:`BearerMiddleware`."""

    def __init__(self, app: WSGIApp, *, tokens: TokenManager, realm: str = "api") -> None:
        if not isinstance(tokens, TokenManager):
            raise TypeError("WSGIBearerMiddleware needs a TokenManager")
        challenge(None, realm=realm)
        self.app = app
        self.tokens = tokens
        self.realm = realm

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        try:
            environ[SCOPE_KEY] = authenticate_wsgi(self.tokens, environ)
        except TokenError as exc:
            _status, headers = unauthorized(exc, realm=self.realm)
            start_response("401 Unauthorized", headers)
            return [error_body(exc)]
        except StoreUnavailable as exc:
            logger.warning("sessionward: store unavailable while verifying a token: %s", exc)
            start_response(
                "503 Service Unavailable",
                [
                    ("Content-Type", "text/plain"),
                    ("Retry-After", "5"),
                    ("Cache-Control", "no-store"),
                ],
            )
            return [b"Token store unavailable; please retry shortly.\n"]
        return self.app(environ, start_response)
