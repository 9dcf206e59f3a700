"""The demo's token API: what an API client or a single-page app does with sessionward tokens.

==========================  ======================================================  ==========
route                       what it does                                             CSRF
==========================  ======================================================  ==========
POST /api/token             user name + password (JSON) -> new session, token pair   exempt
POST /api/token/refresh     refresh token in the JSON body -> rotated pair           exempt
POST /api/browser/token     the logged-in cookie session -> access token, refresh    checked
                            token in the ``__Host-refresh`` cookie
POST /api/browser/refresh   refresh cookie -> access token, rotated cookie           checked
GET  /api/me                who the bearer token belongs to                          (safe)
POST /api/logout            bearer token -> its session and all its tokens end       exempt
GET  /.well-known/jwks.json the public signing keys                                  (safe)
==========================  ======================================================  ==========

Routes that authenticate with a bearer token or with credentials in the body carry no ambient
credential a cross-site page could ride on, so they are exempt from CSRF checks; the two
``/api/browser/*`` routes act on cookies and must send the ``X-CSRF-Token`` header.

Keys: the demo calls :meth:`SigningKeys.development`, the explicit development switch, which
creates an Ed25519 key in the state directory on first run (``jwt-signing-key.pem``, mode
0600) and reuses it afterwards. A real deployment loads its keys with ``SigningKeys.from_env`` or
``SigningKeys.from_files`` instead.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from sessionward import (
    AsyncLoginLimiter,
    AsyncSession,
    AsyncSessionManager,
    Clock,
    CookieConfig,
    SessionLimitExceeded,
    StoreUnavailable,
)
from sessionward.integrations.asgi import client_from_scope
from sessionward.integrations.bearer import (
    SCOPE_KEY,
    BearerMiddleware,
    error_body,
    unauthorized,
)
from sessionward.monitoring import EventKind, EventSink, LoggingSink
from sessionward.tokens import (
    AccessClaims,
    AccessSettings,
    AsyncSQLiteTokenStore,
    AsyncTokenManager,
    InvalidGrant,
    RefreshCookie,
    RevocationSink,
    SigningKeys,
    TokenError,
    TokenPair,
)

from .config import DemoConfig
from .users import UserDirectory

MAX_BODY = 4096
REALM = "sessionward-demo"
CSRF_EXEMPT = ("/api/token", "/api/token/refresh", "/api/logout")


def _refused(error: TokenError, *, extra: list[tuple[str, str]] | None = None) -> Response:
    status, headers = unauthorized(error, realm=REALM)
    response = Response(error_body(error), status_code=status)
    for name, value in [*headers, *(extra or [])]:
        response.headers.append(name, value)
    return response


def _unavailable() -> Response:
    return PlainTextResponse(
        "Store unavailable; please retry shortly.",
        status_code=503,
        headers={"retry-after": "5", "cache-control": "no-store"},
    )


def _too_many(wait: float) -> Response:
    """A password grant refused by the login limiter: 429, and when to try again."""
    seconds = max(1, math.ceil(wait))
    body = {
        "error": "too_many_attempts",
        "error_description": f"Too many failed attempts; retry in {seconds} seconds.",
    }
    headers = {"retry-after": str(seconds), "cache-control": "no-store"}
    return JSONResponse(body, status_code=429, headers=headers)


Endpoint = Callable[[Any, Request], Awaitable[Response]]


def _guarded(endpoint: Endpoint) -> Endpoint:
    """A store outage is a 503 and a refused login (session limit) a 401, never a 500."""

    @functools.wraps(endpoint)
    async def guarded(self: Any, request: Request) -> Response:
        try:
            return await endpoint(self, request)
        except StoreUnavailable:
            return _unavailable()
        except SessionLimitExceeded:
            return _refused(InvalidGrant("limit", "Too many active sessions; log out elsewhere."))

    return guarded


def _pair_response(pair: TokenPair) -> JSONResponse:
    return JSONResponse(pair.as_json(), headers={"cache-control": "no-store"})


async def _json_body(request: Request) -> dict[str, Any] | None:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    try:
        loaded = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return loaded if isinstance(loaded, dict) else None


class DemoAPI:
    """The token side of the demo; :func:`sessionward.demo.app.create_app` wires it in."""

    def __init__(self, config: DemoConfig, users: UserDirectory, clock: Clock) -> None:
        self.config = config
        self.users = users
        self.clock = clock
        self.keys = SigningKeys.development(config.state_dir / "jwt-signing-key.pem")
        self.store = AsyncSQLiteTokenStore(config.state_dir / "tokens.sqlite3")
        origin = f"{config.scheme}://{config.host}:{config.port}"
        self.settings = AccessSettings(issuer=origin, audience=f"{origin}/api")
        # Plain-HTTP development mode cannot carry a Secure/__Host- cookie; like the session
        # cookie, the refresh cookie then drops both (CookieConfig.development warns).
        self.cookie = (
            RefreshCookie(CookieConfig.development(name="refresh", same_site="strict"))
            if config.insecure_http
            else RefreshCookie()
        )
        self._tokens: AsyncTokenManager | None = None
        self._limiter: AsyncLoginLimiter | None = None

    def sinks(self, sinks: list[EventSink] | None) -> list[EventSink]:
        """The app's sinks plus the one that ends tokens when their session ends."""
        base: list[EventSink] = [LoggingSink()] if sinks is None else list(sinks)
        return [*base, RevocationSink.for_settings(self.store, self.settings)]

    @property
    def tokens(self) -> AsyncTokenManager:
        if self._tokens is None:
            raise RuntimeError("DemoAPI.routes() has not been called")
        return self._tokens

    @property
    def limiter(self) -> AsyncLoginLimiter:
        if self._limiter is None:
            raise RuntimeError("DemoAPI.routes() has not been called")
        return self._limiter

    def routes(
        self, manager: AsyncSessionManager, limiter: AsyncLoginLimiter | None = None
    ) -> list[BaseRoute]:
        """The API's routes; ``limiter`` (one per manager by default) slows password guessing."""
        self._limiter = limiter or AsyncLoginLimiter(manager)
        self._tokens = AsyncTokenManager(
            manager, self.store, keys=self.keys, settings=self.settings
        )
        protected = BearerMiddleware(self.me, tokens=self._tokens, realm=REALM)
        logout = BearerMiddleware(self.logout, tokens=self._tokens, realm=REALM)
        return [
            Route("/api/token", self.password_grant, methods=["POST"]),
            Route("/api/token/refresh", self.refresh, methods=["POST"]),
            Route("/api/browser/token", self.browser_token, methods=["POST"]),
            Route("/api/browser/refresh", self.browser_refresh, methods=["POST"]),
            Route("/api/me", protected, methods=["GET"]),
            Route("/api/logout", logout, methods=["POST"]),
            Route("/.well-known/jwks.json", self.jwks, methods=["GET"]),
        ]

    # -- endpoints -------------------------------------------------------------------------

    @_guarded
    async def password_grant(self, request: Request) -> Response:
        body = await _json_body(request)
        username = body.get("username") if body else None
        password = body.get("password") if body else None
        client = client_from_scope(request.scope)
        if not isinstance(username, str) or not isinstance(password, str):
            return _refused(InvalidGrant("request", "Send a JSON username and password."))
        limiter = self.limiter
        username = username[:256]
        wait = await limiter.check(username, client)
        if wait is not None:
            return _too_many(wait)
        user = self.users.authenticate(username, password[:256])
        if user is None:
            await limiter.failed(username, client)
            self.tokens.sessions.emit(
                EventKind.LOGIN_FAILED, client=client, reason="bad credentials (API)"
            )
            return _refused(InvalidGrant("credentials", "Unknown user name or wrong password."))
        await limiter.succeeded(username, client)
        return _pair_response(await self.tokens.login(user.username, client))

    @_guarded
    async def refresh(self, request: Request) -> Response:
        body = await _json_body(request)
        presented = body.get("refresh_token") if body else None
        try:
            pair = await self.tokens.refresh(
                presented if isinstance(presented, str) else "", client_from_scope(request.scope)
            )
        except TokenError as exc:
            return _refused(exc)
        return _pair_response(pair)

    @_guarded
    async def browser_token(self, request: Request) -> Response:
        session: AsyncSession = request.session  # type: ignore[assignment]
        if not session.is_authenticated:
            return _refused(InvalidGrant("no session", "Log in first."))
        pair = await self.tokens.issue(session)
        return self._browser_response(pair)

    @_guarded
    async def browser_refresh(self, request: Request) -> Response:
        presented = self.cookie.read(request.headers.get("cookie"))
        try:
            pair = await self.tokens.refresh(presented or "", client_from_scope(request.scope))
        except TokenError as exc:
            return _refused(exc, extra=[("set-cookie", self.cookie.clear())])
        return self._browser_response(pair)

    def _browser_response(self, pair: TokenPair) -> Response:
        # The refresh token goes only into the HttpOnly cookie: page scripts never see it.
        body = {k: v for k, v in pair.as_json().items() if k != "refresh_token"}
        response = JSONResponse(body, headers={"cache-control": "no-store"})
        response.headers.append("set-cookie", self.cookie.set(pair, now=self.clock.now()))
        return response

    async def me(self, scope: Any, receive: Any, send: Any) -> None:
        claims: AccessClaims = scope[SCOPE_KEY]
        user = self.users.get(claims.subject)
        body = {
            "user": claims.subject,
            "display_name": None if user is None else user.display_name,
            "session": claims.session,
            "expires_at": claims.expires_at,
        }
        await JSONResponse(body, headers={"cache-control": "no-store"})(scope, receive, send)

    async def logout(self, scope: Any, receive: Any, send: Any) -> None:
        claims: AccessClaims = scope[SCOPE_KEY]
        try:
            ended = await self.tokens.logout(claims, client_from_scope(scope))
        except StoreUnavailable:
            await _unavailable()(scope, receive, send)
            return
        response = JSONResponse({"logged_out": ended}, headers={"cache-control": "no-store"})
        response.headers.append("set-cookie", self.cookie.clear())
        await response(scope, receive, send)

    async def jwks(self, request: Request) -> Response:
        return JSONResponse(self.tokens.jwks(), headers={"cache-control": "public, max-age=300"})


__all__ = ["CSRF_EXEMPT", "REALM", "DemoAPI"]
