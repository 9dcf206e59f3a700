"""One behavioural suite for every TokenStore implementation."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import require_service
from distributed.services import POSTGRES_URL, REDIS_URL, postgres_problem, redis_problem
from sessionward.errors import DuplicateKey
from sessionward.tokens import MemoryTokenStore, SQLiteTokenStore, TokenStore
from sessionward.tokens.refresh import RefreshRecord
from sessionward.tokens.sqlite import AsyncSQLiteTokenStore

# Real-looking wall-clock times: Redis expires keys by absolute time.
T = 1_800_000_000.0


def record(key: str, *, session: str = "s1", expires_at: float = T + 1000) -> RefreshRecord:
    return RefreshRecord(
        key=key, family="f1", session=session, user_id="alice", issued_at=T, expires_at=expires_at
    )


def _unique(kind: str) -> str:
    return f"swtok_{kind}_{uuid.uuid4().hex[:12]}"


def _redis(tmp: Path) -> tuple[TokenStore, Callable[[], None]]:
    require_service("redis", redis_problem())
    from sessionward.tokens.redis import RedisTokenStore

    store = RedisTokenStore(url=REDIS_URL, prefix=_unique("redis"))

    def cleanup() -> None:
        names = list(store.client.scan_iter(match=store.layout.tag + "*"))
        if names:
            store.client.delete(*names)
        store.close()

    return store, cleanup


def _postgres(tmp: Path) -> tuple[TokenStore, Callable[[], None]]:
    require_service("postgres", postgres_problem())
    from sessionward.tokens.postgres import PostgresTokenStore

    store = PostgresTokenStore(POSTGRES_URL, schema=_unique("pg"))

    def cleanup() -> None:
        store._run(store.plans.drop())
        store.close()

    return store, cleanup


def _simple(made: TokenStore) -> tuple[TokenStore, Callable[[], None]]:
    return made, made.close


FACTORIES: dict[str, Callable[[Path], tuple[TokenStore, Callable[[], None]]]] = {
    "memory": lambda tmp: _simple(MemoryTokenStore()),
    "sqlite": lambda tmp: _simple(SQLiteTokenStore(tmp / "t.db")),
    "redis": _redis,
    "postgres": _postgres,
}


@pytest.fixture(params=sorted(FACTORIES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TokenStore]:
    made, cleanup = FACTORIES[request.param](tmp_path)
    yield made
    cleanup()


def test_add_get_and_no_duplicate_keys(store: TokenStore) -> None:
    store.add(record("a"))
    assert store.get("a") == record("a")
    assert store.get("missing") is None
    with pytest.raises(DuplicateKey, match="exists") as raised:
        store.add(record("a"))
    assert isinstance(raised.value, ValueError)


def test_rotate_is_a_compare_and_set(store: TokenStore) -> None:
    store.add(record("a"))
    assert store.rotate("a", record("b"), sealed="box", now=T + 5.0) is True
    rotated = store.get("a")
    assert rotated is not None and rotated.rotated_at == T + 5.0 and rotated.sealed == "box"
    assert store.get("b") == record("b")
    assert store.rotate("a", record("c"), sealed="box2", now=T + 6.0) is False
    assert store.get("c") is None
    assert store.rotate("missing", record("d"), sealed="x", now=T + 6.0) is False
    assert store.get("d") is None


def test_concurrent_rotations_have_exactly_one_winner(store: TokenStore) -> None:
    store.add(record("a"))
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def rotate(i: int) -> None:
        barrier.wait()
        results.append(store.rotate("a", record(f"succ{i}"), sealed=str(i), now=T + 1.0))

    threads = [threading.Thread(target=rotate, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]


def test_end_session_deletes_its_tokens_and_lists_it(store: TokenStore) -> None:
    store.add(record("a", session="s1"))
    store.add(record("b", session="s1"))
    store.add(record("c", session="s2"))
    assert store.end_session("s1", now=T + 10.0, until=T + 20.0) == 2
    assert store.get("a") is None and store.get("b") is None and store.get("c") is not None
    assert store.revocations(T + 10.0).sessions == frozenset({"s1"})
    assert store.revocations(T + 19.9).revokes("s1", issued_at=T + 0)
    assert store.revocations(T + 20.0).sessions == frozenset()
    # A second, shorter entry never shortens the first.
    store.end_session("s2", now=T + 10.0, until=T + 30.0)
    store.end_session("s2", now=T + 11.0, until=T + 15.0)
    assert "s2" in store.revocations(T + 25.0).sessions


def test_end_all_sets_a_not_before(store: TokenStore) -> None:
    store.add(record("a"))
    assert store.end_all(now=T + 100.0, until=T + 400.0) == 1
    assert store.get("a") is None
    revs = store.revocations(T + 200.0)
    assert revs.not_before == T + 100.0
    assert revs.revokes("anything", issued_at=T + 99) and not revs.revokes(
        "anything", issued_at=T + 100
    )
    assert store.revocations(T + 400.0).not_before is None


def test_purge_expired(store: TokenStore) -> None:
    store.add(record("old", expires_at=T + 50.0))
    store.add(record("new", expires_at=T + 150.0))
    store.end_session("gone", now=T + 0.0, until=T + 60.0)
    purged = store.purge_expired(T + 100.0)
    if isinstance(store, MemoryTokenStore | SQLiteTokenStore) or hasattr(store, "plans"):
        assert purged == 1
        assert store.get("old") is None
    # (Redis expires refresh tokens itself, by TTL at wall-clock time; purge trims the list.)
    assert store.get("new") is not None
    assert store.revocations(T + 0.0).sessions == frozenset()


def test_sqlite_token_store_file_is_private_and_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "tokens.sqlite3"
    first = SQLiteTokenStore(path)
    first.add(record("a"))
    first.close()
    assert path.stat().st_mode & 0o777 == 0o600
    second = SQLiteTokenStore(path)
    assert second.get("a") == record("a")
    second.close()


@pytest.mark.anyio
async def test_async_sqlite_token_store(tmp_path: Path) -> None:
    store = AsyncSQLiteTokenStore(tmp_path / "t.db")
    await store.add(record("a"))
    assert await store.rotate("a", record("b"), sealed="x", now=T + 1.0)
    assert (await store.get("b")) == record("b")
    assert await store.end_session("s1", now=T + 1.0, until=T + 2.0) == 2
    assert (await store.revocations(T + 1.5)).sessions == frozenset({"s1"})
    assert await store.end_all(now=T + 1.0, until=T + 2.0) == 0
    assert await store.purge_expired(T + 5.0) == 0
    await store.close()


@pytest.mark.anyio
async def test_async_redis_token_store() -> None:
    require_service("redis", redis_problem())
    from sessionward.tokens.redis import AsyncRedisTokenStore

    store = AsyncRedisTokenStore(url=REDIS_URL, prefix=_unique("aredis"))
    try:
        await store.add(record("a"))
        assert await store.get("a") == record("a")
        assert await store.rotate("a", record("b"), sealed="x", now=T + 1.0)
        assert not await store.rotate("a", record("c"), sealed="x", now=T + 1.0)
        assert await store.end_session("s1", now=T + 1.0, until=T + 2000.0) == 2
        assert (await store.revocations(T + 1.5)).sessions == frozenset({"s1"})
        assert await store.end_all(now=T + 1.0, until=T + 2000.0) == 0
        assert (await store.revocations(T + 1.5)).not_before == T + 1.0
        assert await store.purge_expired(T + 5000.0) == 0
        assert (await store.revocations(T + 1.5)).sessions == frozenset()
    finally:
        names = [n async for n in store.client.scan_iter(match=store.layout.tag + "*")]
        if names:
            await store.client.delete(*names)
        await store.close()


@pytest.mark.anyio
async def test_async_postgres_token_store() -> None:
    require_service("postgres", postgres_problem())
    from sessionward.tokens.postgres import AsyncPostgresTokenStore

    store = AsyncPostgresTokenStore(POSTGRES_URL, schema=_unique("apg"))
    try:
        await store.add(record("a"))
        assert await store.get("a") == record("a")
        assert await store.rotate("a", record("b"), sealed="x", now=T + 1.0)
        assert not await store.rotate("a", record("c"), sealed="x", now=T + 1.0)
        assert await store.end_session("s1", now=T + 1.0, until=T + 2.0) == 2
        assert (await store.revocations(T + 1.5)).sessions == frozenset({"s1"})
        assert await store.end_all(now=T + 1.0, until=T + 2.0) == 0
        assert await store.purge_expired(T + 5.0) == 0
    finally:
        await store._run(store.plans.drop())
        await store.close()
