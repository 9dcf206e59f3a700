"""Tokens for APIs: short-lived access JWTs bound to sessions, rotating refresh tokens.

Needs the ``jwt`` extra: ``pip install 'sessionward[jwt]'``. See ``docs/tokens.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

try:
    import cryptography  # noqa: F401
    import jwt  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "sessionward.tokens needs the 'jwt' extra: pip install 'sessionward[jwt]'"
    ) from exc

from ..deprecations import moved_names as _moved_names
from .access import AccessClaims, AccessSettings, AccessTokens, IssuedToken
from .cookie import RefreshCookie
from .errors import InvalidGrant, InvalidRequest, InvalidToken, MissingToken, TokenError
from .flows import TokenPair, TokenPolicy, VerifyMode
from .keys import Algorithm, SigningKey, SigningKeys
from .manager import AsyncTokenManager, TokenManager
from .refresh import RefreshRecord
from .revocation import AsyncRevocationSink, RevocationSink
from .sqlite import AsyncSQLiteTokenStore, SQLiteTokenStore
from .store import (
    AsyncTokenStore,
    MemoryTokenStore,
    Revocations,
    ThreadedAsyncTokenStore,
    TokenStore,
)

__all__ = [
    "AccessClaims",
    "AccessSettings",
    "AccessTokens",
    "Algorithm",
    "AsyncRevocationSink",
    "AsyncSQLiteTokenStore",
    "AsyncTokenManager",
    "AsyncTokenStore",
    "InvalidGrant",
    "InvalidRequest",
    "InvalidToken",
    "IssuedToken",
    "MemoryTokenStore",
    "MissingToken",
    "RefreshCookie",
    "RefreshRecord",
    "RevocationSink",
    "Revocations",
    "SQLiteTokenStore",
    "SigningKey",
    "SigningKeys",
    "ThreadedAsyncTokenStore",
    "TokenError",
    "TokenManager",
    "TokenPair",
    "TokenPolicy",
    "TokenStore",
    "VerifyMode",
]


if not TYPE_CHECKING:  # type checkers see only the new name, so old uses get flagged
    __getattr__ = _moved_names(__name__, {"KeyRing": ("sessionward.tokens", "SigningKeys")})
