"""Issue 9 item 8: on a shared store the guard counts across app instances, with expiry."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sessionward import ClientInfo, MemoryStore, SessionManager
from sessionward.core.guessing import MemoryCounters
from sessionward.errors import GuessingBlocked
from sessionward.guard import AsyncMemoryCounters, counters_for
from sessionward.monitoring import AnomalyRules, GuessingRule, Monitoring
from sessionward.testing import FakeClock

RULE = GuessingRule(max_failures=6, window=60, block_for=300)
NAME = "__Host-session"
GUESSER = ClientInfo(ip="192.0.2.66", user_agent="curl")


def _manager(store: Any, clock: FakeClock) -> SessionManager:
    rules = AnomalyRules(guessing=RULE)
    return SessionManager(store, clock=clock, sinks=[], monitoring=Monitoring(rules))


def _blocked(manager: SessionManager) -> bool:
    try:
        manager.load(f"{NAME}=forged", GUESSER)
    except GuessingBlocked:
        return True
    return False


def _guess_on(instances: list[SessionManager]) -> None:
    for n in range(RULE.max_failures):
        instances[n % len(instances)].load(f"{NAME}=guess{n}", GUESSER)


@pytest.mark.parametrize("backend", ["redis", "postgres"])
def test_guesses_spread_over_instances_add_up(
    backend: str, clock: FakeClock, shared_store: Any
) -> None:
    store = shared_store(backend)
    first, second = _manager(store, clock), _manager(store, clock)
    _guess_on([first, second])
    assert _blocked(first) and _blocked(second)
    assert _blocked(_manager(store, clock))  # a third instance sees it too
    clock.advance(RULE.block_for)
    assert not _blocked(first)


def test_redis_guard_keys_live_under_the_prefix_and_expire(
    clock: FakeClock, shared_store: Any
) -> None:
    store = shared_store("redis")
    manager = _manager(store, clock)
    for n in range(RULE.max_failures - 1):
        manager.load(f"{NAME}=guess{n}", ClientInfo(ip=f"198.51.100.{n}"))
    _guess_on([manager])
    names = list(store.client.scan_iter(match=store._layout.tag + "g:*"))
    assert names
    assert all(0 < store.client.pttl(name) <= RULE.block_for * 1000 for name in names)
    assert store.delete_all() == 0
    assert _blocked(manager)  # "revoke everyone" deletes sessions, not the block


def test_postgres_guard_rows_are_swept_lazily(clock: FakeClock, shared_store: Any) -> None:
    store = shared_store("postgres")
    manager = _manager(store, clock)
    counters = manager.counters
    for n in range(200):
        manager.load(f"{NAME}=guess{n}", ClientInfo(ip=f"10.1.{n // 250}.{n % 250}"))
    clock.advance(RULE.window + 1)
    swept = 0
    while (batch := counters.sweep(clock.now())) > 0:
        swept += batch
    assert swept == 200


def test_memory_and_sqlite_stores_count_per_process(clock: FakeClock, tmp_path: Any) -> None:
    from sessionward import SQLiteStore

    assert isinstance(counters_for(MemoryStore(), asynchronous=False), MemoryCounters)
    sqlite = SQLiteStore(tmp_path / "s.sqlite3")
    assert isinstance(counters_for(sqlite, asynchronous=False), MemoryCounters)
    assert isinstance(counters_for(sqlite, asynchronous=True), AsyncMemoryCounters)
    sqlite.close()
    store = MemoryStore()
    first, second = _manager(store, clock), _manager(store, clock)
    _guess_on([first, second])
    assert not _blocked(first)  # each process saw only half the guesses


def test_memory_counters_stay_bounded() -> None:
    counters = MemoryCounters(max_keys=50)
    for n in range(5000):
        counters.hit(f"k{n}", "m", 60, 0.0)
        counters.mark(f"k{n}", 100.0, 0.0)
    assert len(counters) == 100


def test_async_counters_on_redis(clock: FakeClock) -> None:
    from conftest import require_service
    from distributed.services import REDIS_URL, redis_problem

    require_service("redis", redis_problem())
    from sessionward.guard.redis import AsyncRedisCounters
    from sessionward.stores.redis import AsyncRedisStore

    from .conftest import unique

    async def scenario() -> None:
        store = AsyncRedisStore(url=REDIS_URL, prefix=unique())
        counters = counters_for(store, asynchronous=True)
        assert isinstance(counters, AsyncRedisCounters)
        try:
            assert await counters.hit("a", "x", 60, 0.0) == 1
            assert await counters.hit("a", "x", 60, 0.0) == 1
            assert await counters.hit("a", "y", 60, 0.0) == 2
            assert await counters.hit("n", None, 60, 0.0) == 1
            assert await counters.hit("n", None, 60, 0.0) == 2
            await counters.mark("b", 50.0, 0.0)
            assert await counters.marks(["b", "c"], 10.0) == [50.0, None]
            assert await counters.marks(["b"], 60.0) == [None]
            await counters.clear(["a", "b", "n"])
            assert await counters.marks(["b"], 10.0) == [None]
        finally:
            names = [n async for n in store.client.scan_iter(match=store._layout.tag + "*")]
            if names:
                await store.client.unlink(*names)
            await store.close()

    asyncio.run(scenario())


def test_a_shared_store_without_token_keys_says_what_to_set(
    clock: FakeClock, shared_store: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from sessionward import SecretKeyRing

    store = shared_store("redis")
    with caplog.at_level("WARNING", logger="sessionward"):
        SessionManager(store, clock=clock, sinks=[])
    assert "token_keys=SecretKeyRing" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="sessionward"):
        SessionManager(store, clock=clock, sinks=[], token_keys=SecretKeyRing.generate())
        SessionManager(MemoryStore(), clock=clock, sinks=[])
    assert caplog.text == ""
