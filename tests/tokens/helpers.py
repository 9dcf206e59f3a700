"""Shared set-up for the token tests: managers on memory stores, a forger for hostile tokens."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from jwt.algorithms import get_default_algorithms

from sessionward import (
    AsyncMemoryStore,
    AsyncSessionManager,
    ClientInfo,
    MemoryStore,
    SessionManager,
    SessionPolicy,
)
from sessionward.monitoring import MemorySink
from sessionward.testing import FakeClock
from sessionward.tokens import (
    AccessSettings,
    AsyncTokenManager,
    MemoryTokenStore,
    RevocationSink,
    SigningKey,
    SigningKeys,
    ThreadedAsyncTokenStore,
    TokenManager,
    TokenPolicy,
)

ISSUER = "https://api.example.test"
AUDIENCE = "https://api.example.test/v1"
CLIENT = ClientInfo(ip="203.0.113.9", user_agent="TokenTest/1.0")
SETTINGS = AccessSettings(issuer=ISSUER, audience=AUDIENCE)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64json(value: Any) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


def forge(
    header: Mapping[str, Any],
    claims: Mapping[str, Any] | str,
    *,
    key: SigningKey | None = None,
    algorithm: str | None = None,
    signature: bytes | None = None,
) -> str:
    """A compact JWS with exactly the header and payload given, signed by ``key`` with
    ``algorithm`` (default: the key's own), or carrying ``signature`` verbatim."""
    payload = claims if isinstance(claims, str) else b64json(claims)
    signing_input = f"{b64json(header)}.{payload}"
    if signature is None:
        if key is None:
            return signing_input + "."
        alg = get_default_algorithms()[algorithm or key.algorithm]
        signature = alg.sign(signing_input.encode(), key.signing_material)
    return f"{signing_input}.{b64(signature)}"


def good_claims(clock: FakeClock, **changes: Any) -> dict[str, Any]:
    now = int(clock.now())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "alice",
        "sid": "handle-of-a-session-00",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": "jti-1",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


class World:
    """A sync session manager and token manager on memory stores, with one clock and sink."""

    def __init__(
        self,
        *,
        policy: TokenPolicy | None = None,
        keys: SigningKeys | None = None,
        session_policy: SessionPolicy | None = None,
    ) -> None:
        self.clock = FakeClock()
        self.sink = MemorySink()
        self.token_store = MemoryTokenStore()
        self.keys = keys or SigningKeys([SigningKey.generate("EdDSA", kid="k1")])
        self.session_store = MemoryStore()
        self.sessions = SessionManager(
            self.session_store,
            policy=session_policy,
            clock=self.clock,
            sinks=[self.sink, RevocationSink.for_settings(self.token_store, SETTINGS)],
        )
        self.tokens = TokenManager(
            self.sessions, self.token_store, keys=self.keys, settings=SETTINGS, policy=policy
        )


class AsyncWorld:
    """The async twin of :class:`World`."""

    def __init__(self, *, policy: TokenPolicy | None = None) -> None:
        self.clock = FakeClock()
        self.sink = MemorySink()
        self.token_store = MemoryTokenStore()
        self.keys = SigningKeys([SigningKey.generate("ES256", kid="k-es")])
        self.sessions = AsyncSessionManager(
            AsyncMemoryStore(),
            clock=self.clock,
            sinks=[self.sink, RevocationSink.for_settings(self.token_store, SETTINGS)],
        )
        self.tokens = AsyncTokenManager(
            self.sessions,
            ThreadedAsyncTokenStore(self.token_store, offload=False),
            keys=self.keys,
            settings=SETTINGS,
            policy=policy,
        )
