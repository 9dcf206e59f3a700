"""One behavioural suite for every TokenStore implementation."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sessionward.tokens import MemoryTokenStore, SQLiteTokenStore, TokenStore
from sessionward.tokens.refresh import RefreshRecord
from sessionward.tokens.sqlite import AsyncSQLiteTokenStore


def record(key: str, *, session: str = "s1", expires_at: float = 1000.0) -> RefreshRecord:
    return RefreshRecord(
        key=key, family="f1", session=session, user_id="alice", issued_at=0.0, expires_at=expires_at
    )


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TokenStore]:
    made: TokenStore = (
        MemoryTokenStore() if request.param == "memory" else SQLiteTokenStore(tmp_path / "t.db")
    )
    yield made
    made.close()


def test_add_get_and_no_duplicate_keys(store: TokenStore) -> None:
    store.add(record("a"))
    assert store.get("a") == record("a")
    assert store.get("missing") is None
    with pytest.raises(ValueError, match="exists"):
        store.add(record("a"))


def test_rotate_is_a_compare_and_set(store: TokenStore) -> None:
    store.add(record("a"))
    assert store.rotate("a", record("b"), sealed="box", now=5.0) is True
    rotated = store.get("a")
    assert rotated is not None and rotated.rotated_at == 5.0 and rotated.sealed == "box"
    assert store.get("b") == record("b")
    assert store.rotate("a", record("c"), sealed="box2", now=6.0) is False
    assert store.get("c") is None
    assert store.rotate("missing", record("d"), sealed="x", now=6.0) is False
    assert store.get("d") is None


def test_concurrent_rotations_have_exactly_one_winner(store: TokenStore) -> None:
    store.add(record("a"))
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def rotate(i: int) -> None:
        barrier.wait()
        results.append(store.rotate("a", record(f"succ{i}"), sealed=str(i), now=1.0))

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
    assert store.end_session("s1", now=10.0, until=20.0) == 2
    assert store.get("a") is None and store.get("b") is None and store.get("c") is not None
    assert store.revocations(10.0).sessions == frozenset({"s1"})
    assert store.revocations(19.9).revokes("s1", issued_at=0)
    assert store.revocations(20.0).sessions == frozenset()
    # A second, shorter entry never shortens the first.
    store.end_session("s2", now=10.0, until=30.0)
    store.end_session("s2", now=11.0, until=15.0)
    assert "s2" in store.revocations(25.0).sessions


def test_end_all_sets_a_not_before(store: TokenStore) -> None:
    store.add(record("a"))
    assert store.end_all(now=100.0, until=400.0) == 1
    assert store.get("a") is None
    revs = store.revocations(200.0)
    assert revs.not_before == 100.0
    assert revs.revokes("anything", issued_at=99) and not revs.revokes("anything", issued_at=100)
    assert store.revocations(400.0).not_before is None


def test_purge_expired(store: TokenStore) -> None:
    store.add(record("old", expires_at=50.0))
    store.add(record("new", expires_at=150.0))
    store.end_session("gone", now=0.0, until=60.0)
    assert store.purge_expired(100.0) == 1
    assert store.get("old") is None and store.get("new") is not None
    assert store.revocations(0.0).sessions == frozenset()


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
    assert await store.rotate("a", record("b"), sealed="x", now=1.0)
    assert (await store.get("b")) == record("b")
    assert await store.end_session("s1", now=1.0, until=2.0) == 2
    assert (await store.revocations(1.5)).sessions == frozenset({"s1"})
    assert await store.end_all(now=1.0, until=2.0) == 0
    assert await store.purge_expired(5.0) == 0
    await store.close()
