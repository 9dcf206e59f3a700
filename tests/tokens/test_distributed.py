"""Tokens over the real shared stores: Redis sessions + Redis tokens, PostgreSQL + PostgreSQL.

Two token managers stand for two app instances sharing the stores: a refresh on one and a
replay on the other is still detected, and a logout on one ends the tokens on the other.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conftest import require_service
from distributed.services import (
    POSTGRES_URL,
    REDIS_URL,
    DroppingPostgresStore,
    postgres_problem,
    redis_problem,
)
from sessionward import SessionManager
from sessionward.monitoring import MemorySink
from sessionward.testing import FakeClock
from sessionward.tokens import (
    InvalidGrant,
    InvalidToken,
    RevocationSink,
    SigningKey,
    SigningKeys,
    TokenManager,
    TokenPolicy,
)

from .helpers import CLIENT, SETTINGS

Backends = tuple[Any, Any, Callable[[], None]]


def _unique(kind: str) -> str:
    return f"swtokd_{kind}_{uuid.uuid4().hex[:12]}"


def _redis() -> Backends:
    require_service("redis", redis_problem())
    from sessionward.stores.redis import RedisStore
    from sessionward.tokens.redis import RedisTokenStore

    prefixes = (_unique("s"), _unique("t"))
    sessions = RedisStore(url=REDIS_URL, prefix=prefixes[0])
    tokens = RedisTokenStore(url=REDIS_URL, prefix=prefixes[1])

    def cleanup() -> None:
        for pattern in ("{" + prefixes[0] + "}:*", "{" + prefixes[1] + "}:*"):
            names = list(tokens.client.scan_iter(match=pattern))
            if names:
                tokens.client.delete(*names)
        sessions.close()
        tokens.close()

    return sessions, tokens, cleanup


def _postgres() -> Backends:
    require_service("postgres", postgres_problem())
    from sessionward.tokens.postgres import PostgresTokenStore

    schema = _unique("pg")
    sessions = DroppingPostgresStore(POSTGRES_URL, schema=schema)
    tokens = PostgresTokenStore(POSTGRES_URL, schema=schema)

    def cleanup() -> None:
        tokens.close()
        sessions.close()  # drops the shared schema

    return sessions, tokens, cleanup


class Instance:
    """One app instance: its own managers (and verifier cache) over the shared stores."""

    def __init__(self, sessions: Any, tokens: Any, clock: FakeClock, policy: TokenPolicy) -> None:
        self.sink = MemorySink()
        self.sessions = SessionManager(
            sessions, clock=clock, sinks=[self.sink, RevocationSink.for_settings(tokens, SETTINGS)]
        )
        self.tokens = TokenManager(
            self.sessions, tokens, keys=KEYS, settings=SETTINGS, policy=policy
        )


KEYS = SigningKeys([SigningKey.generate("EdDSA", kid="shared")])


@pytest.fixture(params=["redis", "postgres"])
def backends(request: pytest.FixtureRequest) -> Iterator[Backends]:
    made = _redis() if request.param == "redis" else _postgres()
    yield made
    made[2]()


def test_reuse_across_instances_revokes_the_family(backends: Backends) -> None:
    sessions, tokens, _ = backends
    clock = FakeClock()
    one = Instance(sessions, tokens, clock, TokenPolicy())
    two = Instance(sessions, tokens, clock, TokenPolicy())
    first = one.tokens.login("alice", CLIENT)
    assert two.tokens.verify(first.access_token).subject == "alice"
    second = one.tokens.refresh(first.refresh_token, CLIENT)
    clock.advance(2)
    # Another tab, routed to the other instance, inside the grace window: same successor.
    assert two.tokens.refresh(first.refresh_token, CLIENT).refresh_token == second.refresh_token
    clock.advance(30)
    with pytest.raises(InvalidGrant):
        two.tokens.refresh(first.refresh_token, CLIENT)
    assert "token.refresh.reused" in two.sink.kinds()
    with pytest.raises(InvalidToken):
        one.tokens.verify(second.access_token)
    with pytest.raises(InvalidGrant):
        one.tokens.refresh(second.refresh_token, CLIENT)


def test_revocation_list_is_shared_between_instances(backends: Backends) -> None:
    sessions, tokens, _ = backends
    clock = FakeClock()
    policy = TokenPolicy(verify_mode="revocation_list", max_staleness=15)
    one = Instance(sessions, tokens, clock, policy)
    two = Instance(sessions, tokens, clock, policy)
    pair = one.tokens.login("alice", CLIENT)
    assert two.tokens.verify(pair.access_token).subject == "alice"
    one.sessions.revoke(pair.session)
    clock.advance(15)
    with pytest.raises(InvalidToken) as caught:
        two.tokens.verify(pair.access_token)
    assert caught.value.reason == "revoked"
