"""FastAPI dependencies: the session, the current user, recent authentication, CSRF, bearer.

::

    from typing import Annotated
    from sessionward.integrations.fastapi import CurrentUser, Session, RecentAuth

    @app.get("/me")
    async def me(user: CurrentUser) -> dict[str, str]:      # 401 when anonymous
        return {"user": user}

    @app.post("/cart")
    async def add(session: Session) -> dict[str, int]:
        session["n"] = session.get("n", 0) + 1
        return {"n": session["n"]}

    @app.post("/password")
    async def change(session: Annotated[AsyncSession, Depends(RecentAuth(300))]) -> None: ...

The session and user dependencies declare the session cookie as an ``APIKeyCookie`` security
scheme, so the OpenAPI document shows which routes need a logged-in session. Bearer claims:
``Claims = Annotated[AccessClaims, Depends(BearerToken(tokens))]``, then:

    bearer = BearerToken(lambda: app.state.tokens)

    @app.get("/api/me")
    async def me(claims: Annotated[AccessClaims, Depends(bearer)]) -> dict[str, str]:
        return {"user": claims.subject}

``BearerToken`` is a :class:`fastapi.security.HTTPBearer`, so FastAPI lists an HTTP bearer
security scheme and marks each route that depends on it. Every refusal is a 401 with an
RFC 6750 ``WWW-Authenticate`` challenge. Needs the ``fastapi`` extra.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated

try:
    from fastapi import Depends, HTTPException, Request
    from fastapi.security import APIKeyCookie, HTTPBearer
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "sessionward.integrations.fastapi needs the 'fastapi' extra: "
        "pip install 'sessionward[fastapi,jwt]'"
    ) from exc

from ..core.cookies import CookieConfig
from ..errors import ConfigurationError, StoreUnavailable
from ..session import AsyncSession
from ..tokens.access import AccessClaims
from ..tokens.errors import TokenError
from ..tokens.manager import AsyncTokenManager
from .asgi import client_from_scope, session_of
from .bearer import authenticate, challenge, error_body

__all__ = [
    "SESSION_CHALLENGE",
    "BearerToken",
    "CSRFToken",
    "CurrentUser",
    "RecentAuth",
    "Session",
    "get_csrf_token",
    "get_current_user",
    "get_session",
    "session_cookie",
]


class BearerToken(HTTPBearer):
    """A dependency resolving to the verified :class:`AccessClaims` of the request."""

    def __init__(
        self,
        tokens: AsyncTokenManager | Callable[[], AsyncTokenManager],
        *,
        realm: str = "api",
        scheme_name: str = "bearer",
        description: str = "A sessionward access token (JWT) bound to a session.",
    ) -> None:
        super().__init__(bearerFormat="JWT", scheme_name=scheme_name, description=description)
        challenge(None, realm=realm)
        self._tokens = tokens
        self.realm = realm

    def _manager(self) -> AsyncTokenManager:
        tokens = self._tokens
        return tokens if isinstance(tokens, AsyncTokenManager) else tokens()

    async def __call__(self, request: Request) -> AccessClaims:  # type: ignore[override]
        try:
            return await authenticate(
                self._manager(), request.scope, client_from_scope(request.scope)
            )
        except TokenError as exc:
            raise HTTPException(
                status_code=401,
                detail=error_body(exc).decode("utf-8"),
                headers={"WWW-Authenticate": challenge(exc, realm=self.realm)},
            ) from None
        except StoreUnavailable:
            raise HTTPException(
                status_code=503, detail="store unavailable", headers={"Retry-After": "5"}
            ) from None


#: The session cookie as OpenAPI sees it (the default ``__Host-session`` name). The value is
#: read by SessionMiddleware, never by this scheme; it is declared for the documentation only.
session_cookie = APIKeyCookie(
    name=CookieConfig().wire_name,
    scheme_name="session",
    description="The sessionward session cookie (set at login).",
    auto_error=False,
)
#: The challenge of a 401 for a missing or stale login (cookie sessions have no registered
#: scheme; RFC 9110 requires a challenge on every 401).
SESSION_CHALLENGE = 'Cookie realm="session"'


async def get_session(
    request: Request, _cookie: str | None = Depends(session_cookie)
) -> AsyncSession:
    """The request's :class:`~sessionward.AsyncSession` (anonymous or logged in)."""
    try:
        return session_of(request)
    except ConfigurationError as exc:
        raise RuntimeError(str(exc)) from None


#: ``session: Session`` in a path operation: the request's session.
Session = Annotated[AsyncSession, Depends(get_session)]


def _unauthenticated(detail: str) -> HTTPException:
    return HTTPException(
        status_code=401, detail=detail, headers={"WWW-Authenticate": SESSION_CHALLENGE}
    )


async def get_current_user(session: Session) -> str:
    """The logged-in user's id; 401 with ``WWW-Authenticate`` when the session is anonymous."""
    user_id = session.user_id
    if user_id is None:
        raise _unauthenticated("not logged in")
    return user_id


#: ``user: CurrentUser`` in a path operation: the logged-in user's id (401 when anonymous).
CurrentUser = Annotated[str, Depends(get_current_user)]


class RecentAuth:
    """Dependency: a session authenticated within ``max_age`` (else 401 asking to log in again).

    ``Depends(RecentAuth(300))`` resolves to the session. The 401's detail says
    ``reauthentication required``: the client shows its password prompt, then calls an
    endpoint that verifies the password and runs ``await session.reauthenticate()``.
    """

    def __init__(self, max_age: float | timedelta) -> None:
        self.max_age = max_age

    async def __call__(self, session: Session) -> AsyncSession:
        if session.user_id is None:
            raise _unauthenticated("not logged in")
        if session.needs_reauthentication(self.max_age):
            raise _unauthenticated("reauthentication required")
        return session


async def get_csrf_token(request: Request) -> str:
    """A fresh CSRF token for this response (needs ``CSRFMiddleware``)."""
    from .csrf import csrf_token

    return csrf_token(request)


#: ``token: CSRFToken`` in a path operation: a masked token for a form or a script.
CSRFToken = Annotated[str, Depends(get_csrf_token)]
