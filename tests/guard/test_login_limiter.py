"""Issue 9 item 9: online password guessing is slowed per account and per address."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sessionward import (
    AsyncLoginLimiter,
    AsyncMemoryStore,
    AsyncSessionManager,
    ClientInfo,
    ConfigurationError,
    LoginLimiter,
    LoginLimits,
    MemoryStore,
    SessionManager,
)
from sessionward.monitoring import EventKind, MemorySink
from sessionward.testing import FakeClock

LIMITS = LoginLimits(account_free=3, address_free=6, base_delay=2, max_delay=60)
OWNER = ClientInfo(ip="203.0.113.9", user_agent="Firefox")


def _limiter(clock: FakeClock, store: Any = None, sink: MemorySink | None = None) -> LoginLimiter:
    manager = SessionManager(store or MemoryStore(), clock=clock, sinks=[sink] if sink else [])
    return LoginLimiter(manager, LIMITS)


def _stranger(n: int) -> ClientInfo:
    return ClientInfo(ip=f"198.51.{n // 250}.{n % 250}", user_agent="curl")


def test_delays_grow_exponentially_and_are_capped() -> None:
    delays = [LIMITS.delay(n, 3) for n in range(1, 12)]
    assert delays == [0, 0, 0, 2, 4, 8, 16, 32, 60, 60, 60]


def test_an_account_under_attack_backs_off(clock: FakeClock) -> None:
    limiter = _limiter(clock)
    attacker = _stranger(1)
    for _ in range(LIMITS.account_free):
        assert limiter.check("alice", attacker) is None
        assert limiter.failed("alice", attacker) is None
    assert limiter.check("alice", attacker) is None
    assert limiter.failed("alice", attacker) == 2
    assert limiter.check("alice", attacker) == 2
    assert limiter.check("alice", _stranger(2)) == 2  # per account, from anywhere
    assert limiter.check("bob", attacker) is None  # other accounts are not affected
    clock.advance(2)
    assert limiter.check("alice", attacker) is None
    assert limiter.failed("alice", attacker) == 4


def test_an_address_spraying_many_accounts_backs_off(clock: FakeClock) -> None:
    limiter = _limiter(clock)
    sprayer = _stranger(7)
    for n in range(LIMITS.address_free):
        limiter.failed(f"user{n}", sprayer)
    assert limiter.failed("user-last", sprayer) == 2
    assert limiter.check("someone-else", sprayer) == 2
    assert limiter.check("someone-else", _stranger(8)) is None


def test_a_stranger_cannot_lock_the_owner_out(clock: FakeClock) -> None:
    """Failures from elsewhere never delay the owner where they logged in before, and the
    delay a stranger can impose on anyone is capped."""
    limiter = _limiter(clock)
    limiter.succeeded("alice", OWNER)
    waits = []
    for n in range(200):  # a botnet: a new address every time, never over the address budget
        clock.advance(61)
        limiter.failed("alice", _stranger(n))
        waits.append(limiter.check("alice", _stranger(n + 1)) or 0)
    assert max(waits) <= LIMITS.max_delay
    assert limiter.check("alice", OWNER) is None
    limiter.succeeded("alice", OWNER)
    # A thief on the owner's own network is still slowed, by that pair's own budget.
    for _ in range(LIMITS.account_free):
        limiter.failed("alice", OWNER)
    assert limiter.failed("alice", OWNER) == 2
    assert limiter.check("alice", OWNER) == 2


def test_names_are_compared_case_insensitively(clock: FakeClock) -> None:
    limiter = _limiter(clock)
    for _ in range(LIMITS.account_free + 1):
        limiter.failed(" Alice", _stranger(1))
    assert limiter.check("alice", _stranger(2)) == 2


def test_limited_attempts_are_in_the_audit_trail_without_the_typed_name(clock: FakeClock) -> None:
    sink = MemorySink()
    limiter = _limiter(clock, sink=sink)
    for _ in range(LIMITS.account_free + 1):
        limiter.failed("mallory\r\nforged", _stranger(1))
    limiter.check("mallory\r\nforged", _stranger(1))
    reasons = [e.reason for e in sink.events if e.kind is EventKind.ANOMALY]
    assert reasons == ["login_backoff", "login_limited"]
    assert all("mallory" not in repr(e) for e in sink.events)


def test_settings_are_checked_at_start_up() -> None:
    with pytest.raises(ConfigurationError, match="max_delay"):
        LoginLimits(base_delay=10, max_delay=5)
    with pytest.raises(TypeError):
        LoginLimiter(AsyncSessionManager(AsyncMemoryStore()), LIMITS)  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", ["redis", "postgres"])
def test_limits_are_shared_by_instances_of_a_shared_store(
    backend: str, clock: FakeClock, shared_store: Any
) -> None:
    store = shared_store(backend)
    one, two = _limiter(clock, store), _limiter(clock, store)
    for n in range(LIMITS.account_free):
        (one if n % 2 else two).failed("alice", _stranger(n))
    assert one.failed("alice", _stranger(99)) == 2
    assert two.check("alice", _stranger(100)) == 2
    two.succeeded("alice", OWNER)
    assert one.check("alice", OWNER) is None


def test_the_async_limiter_is_the_same(clock: FakeClock) -> None:
    async def scenario() -> None:
        manager = AsyncSessionManager(AsyncMemoryStore(), clock=clock, sinks=[])
        limiter = AsyncLoginLimiter(manager, LIMITS)
        for _ in range(LIMITS.account_free):
            assert await limiter.failed("alice", _stranger(1)) is None
        assert await limiter.failed("alice", _stranger(1)) == 2
        assert await limiter.check("alice", _stranger(3)) == 2
        await limiter.succeeded("alice", OWNER)
        assert await limiter.check("alice", OWNER) is None

    asyncio.run(scenario())
