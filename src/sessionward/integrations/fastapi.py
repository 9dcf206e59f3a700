"""FastAPI dependency for "a valid bearer token", shown in the OpenAPI document.

::

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

try:
    from fastapi import HTTPException, Request
    from fastapi.security import HTTPBearer
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "sessionward.integrations.fastapi needs the 'fastapi' extra: "
        "pip install 'sessionward[fastapi,jwt]'"
    ) from exc

from ..errors import StoreUnavailable
from ..tokens.access import AccessClaims
from ..tokens.errors import TokenError
from ..tokens.manager import AsyncTokenManager
from .asgi import client_from_scope
from .bearer import authenticate, challenge, error_body


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
