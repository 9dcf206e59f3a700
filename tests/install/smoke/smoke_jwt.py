"""[jwt]: a session-bound access token is issued, verified and dies with its session."""

from __future__ import annotations

from _drive import check

import sessionward.binding  # noqa: F401  (device binding, the other user of the jwt extra)
from sessionward import ClientInfo, MemoryStore, SessionManager
from sessionward.tokens import (
    AccessSettings,
    InvalidToken,
    MemoryTokenStore,
    SigningKey,
    SigningKeys,
    TokenManager,
)

settings = AccessSettings(issuer="https://app.test", audience="https://app.test/api")
tokens = TokenManager(
    SessionManager(MemoryStore()),
    MemoryTokenStore(),
    keys=SigningKeys([SigningKey.generate()]),
    settings=settings,
)
client = ClientInfo(ip="127.0.0.1", user_agent="smoke")
pair = tokens.login("alice", client)
claims = tokens.verify(pair.access_token, client)
check(claims.subject == "alice", f"wrong subject {claims.subject!r}")
tokens.logout(claims, client)
try:
    tokens.verify(pair.access_token, client)
except InvalidToken:
    pass
else:
    raise SystemExit("SMOKE FAILED: the access token outlived its session")
