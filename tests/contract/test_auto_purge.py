"""The automatic purge of the SQL stores: expired rows go by themselves, in batches, one
sweeper at a time, and nothing live (or just expired) goes with them.

The app's clock is injected: the stores take ``now`` from the caller, so the tests move a
FakeClock instead of waiting. A round runs in the background; ``sweeper.wait()`` joins it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import require_service
from distributed.services import POSTGRES_URL, postgres_problem
from sessionward import SQLiteStore
from sessionward.core.session_tokens import new_handle, new_token, token_key
from sessionward.errors import ConfigurationError
from sessionward.stores import SessionRecord
from sessionward.stores.sweeper import GRACE
from sessionward.testing import FakeClock
from sessionward.tokens.refresh import RefreshRecord
from sessionward.tokens.sqlite import SQLiteTokenStore

T0 = 1_800_000_000.0


def record(now: float, lifetime: float, user: str = "ann") -> SessionRecord:
    return SessionRecord(
        key=token_key(new_token()),
        handle=new_handle(),
        user_id=user,
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
    )


def _drop(schema: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgres"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    made: list[Any] = []
    schema = f"swpurge_{uuid.uuid4().hex[:10]}"

    def make(**options: Any) -> Any:
        if request.param == "sqlite":
            store: Any = SQLiteStore(tmp_path / "s.sqlite3", **options)
        else:
            require_service("postgres", postgres_problem())
            from sessionward.stores.postgres import PostgresStore

            store = PostgresStore(POSTGRES_URL, schema=schema, **options)
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()
    if request.param == "postgres" and made:
        _drop(schema)


def test_expired_sessions_go_by_themselves_in_batches(
    make_store: Any, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(T0)
    store = make_store(purge_interval=300, purge_batch=100)
    old = [record(clock.now(), 1800) for _ in range(250)]
    for r in old:
        store.create(r, now=clock.now())
    recent = record(clock.now(), 2 * 3600)
    store.create(recent, now=clock.now())
    store.sweeper.wait()
    assert store.sweeper.stats.purged == 0  # the first round found nothing past its grace

    clock.advance(2 * 3600 + 1)  # the 250 expired over an hour ago; `recent` just now
    live = record(clock.now(), 1800)
    with caplog.at_level(logging.INFO, logger="sessionward"):
        store.create(live, now=clock.now())  # a login: the round starts behind it
        store.sweeper.wait()
    assert store.sweeper.stats.purged == 250
    assert all(store.get(r.key) is None for r in old)
    # Just expired: kept through the grace, so its user still hears "session expired".
    assert store.get(recent.key) is not None
    assert store.get(live.key) is not None
    assert "automatic purge deleted 250 expired row(s) of sessions in 3 batch(es)" in caplog.text

    # At most one round per interval, however many writes.
    rounds = store.sweeper.stats.rounds
    for _ in range(5):
        store.create(record(clock.now(), 1800), now=clock.now())
    store.sweeper.wait()
    assert store.sweeper.stats.rounds == rounds


def test_one_sweeper_at_a_time_across_instances(make_store: Any) -> None:
    first = make_store(purge_interval=300)
    second = make_store(purge_interval=300)
    for _ in range(3):
        first.create(record(T0, 60), now=T0)
    first.sweeper.wait()
    second.sweeper.wait()
    now = T0 + GRACE + 600
    if isinstance(first, SQLiteStore):
        assert first.sweeper.run(now) == 3
        # The lease is the first instance's until its interval ends: the second skips.
        assert second.sweeper.run(now + 1) == 0
        assert second.sweeper.stats.skipped == 1
        assert second.sweeper.run(now + 301) == 0  # lapsed: taken over, nothing left to do
        assert second.sweeper.stats.skipped == 1
    else:
        import psycopg

        # Another instance is in the middle of a batch: it holds the advisory lock.
        with psycopg.connect(POSTGRES_URL) as other, other.transaction():
            lock = f"sessionward-sweep:{first.plans.schema}"
            other.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (lock,))
            assert second.sweeper.run(now) == 0
            assert second.sweeper.stats.skipped == 1
        assert first.sweeper.run(now) == 3


def test_the_purge_can_be_turned_off_and_bad_settings_say_how_to_fix_them(
    make_store: Any,
) -> None:
    store = make_store(purge_interval=None)
    store.create(record(T0, 60), now=T0)
    store.create(record(T0 + 86400, 60), now=T0 + 86400)
    store.sweeper.wait()
    assert not store.sweeper.enabled
    assert store.sweeper.stats.rounds == 0
    assert store.purge_expired(T0 + 86400) == 1  # `sessionward purge` still works
    with pytest.raises(ConfigurationError, match="purge_interval"):
        make_store(purge_interval=0)
    with pytest.raises(ConfigurationError, match="purge_batch"):
        make_store(purge_batch=0)
    with pytest.raises(ConfigurationError, match="purge_grace"):
        make_store(purge_grace=-1)


def test_a_failed_round_is_counted_and_logged_and_the_next_one_runs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite3", purge_interval=300)
    calls = {"n": 0}
    real = store._sweep

    def flaky(*args: Any) -> int | None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("disk I/O error")
        return real(*args)

    store.sweeper._step = flaky
    with caplog.at_level(logging.WARNING, logger="sessionward"):
        assert store.sweeper.run(T0) == 0
    assert store.sweeper.stats.errors == 1
    assert "automatic purge of sessions failed" in caplog.text
    store.create(record(T0, 60), now=T0)
    assert store.sweeper.run(T0 + GRACE + 61) == 1
    store.close()


def test_refresh_tokens_are_purged_too(tmp_path: Path) -> None:
    tokens = SQLiteTokenStore(tmp_path / "t.sqlite3", purge_interval=300)

    def token(issued: float) -> RefreshRecord:
        return RefreshRecord(
            key=token_key(new_token()),
            family=new_handle(),
            session=new_handle(),
            user_id="ann",
            issued_at=issued,
            expires_at=issued + 600,
        )

    old = token(T0)
    tokens.add(old)
    tokens.sweeper.wait()
    fresh = token(T0 + GRACE + 700)
    tokens.add(fresh)  # a refresh, an hour and more later: the round starts behind it
    tokens.sweeper.wait()
    assert tokens.get(old.key) is None
    assert tokens.get(fresh.key) is not None
    assert tokens.sweeper.stats.purged == 1
    tokens.close()


def test_async_postgres_sweeps_in_a_task(tmp_path: Path) -> None:
    require_service("postgres", postgres_problem())
    from sessionward.stores.postgres import AsyncPostgresStore

    schema = f"swpurge_{uuid.uuid4().hex[:10]}"

    async def scenario() -> tuple[int, bool]:
        store = AsyncPostgresStore(POSTGRES_URL, schema=schema, purge_interval=300)
        try:
            expired = record(T0, 60)
            await store.create(expired, now=T0)
            await store.sweeper.wait()  # the first write's round (nothing to do yet)
            await store.create(record(T0 + GRACE + 61, 60), now=T0 + GRACE + 61)
            await store.sweeper.wait()
            return store.sweeper.stats.purged, await store.get(expired.key) is None
        finally:
            await store.close()

    try:
        assert asyncio.run(scenario()) == (1, True)
    finally:
        _drop(schema)


def test_metrics_expose_the_purge(tmp_path: Path) -> None:
    prometheus_client = pytest.importorskip("prometheus_client")
    from sessionward.metrics import render, sweep_collector

    store = SQLiteStore(tmp_path / "s.sqlite3", purge_interval=300)
    store.create(record(T0, 60), now=T0)
    store.sweeper.wait()
    store.sweeper.run(T0 + GRACE + 61)
    registry = prometheus_client.CollectorRegistry()
    sweep_collector(store, registry=registry)
    text = render(registry)[0].decode()
    assert 'sessionward_purged_rows_total{table="sessions"} 1.0' in text
    assert 'sessionward_purge_rounds_total{table="sessions"} 2.0' in text
    store.close()


def test_a_round_thread_leaves_no_connection_open(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite3", purge_interval=300)
    store.get("warm")  # this thread's connection
    opened = len(store.db._all)
    for i in range(5):
        store.create(record(T0 + i * 400, 60), now=T0 + i * 400)
        store.sweeper.wait()
    assert store.sweeper.stats.rounds == 5
    assert len(store.db._all) == opened
    store.close()
