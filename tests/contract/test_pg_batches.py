"""The async PostgreSQL store's batches (stores/pg_batch.py) keep every caller's own answer.

Concurrent lookups go in one ``SELECT``, concurrent updates in one transaction (group commit):
no per-key update is lost, a deleted session is not recreated, a revoke is seen by every later
lookup, and an update the server refuses fails alone while the rest of its batch is applied.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from conftest import require_service
from distributed.services import POSTGRES_URL, postgres_problem
from sessionward.errors import SessionDataError
from sessionward.stores import RecordUpdate, SessionRecord

pytestmark = [pytest.mark.anyio, pytest.mark.service("postgres")]
NOW = 1_800_000_000.0


@pytest.fixture
async def store() -> AsyncIterator[Any]:
    require_service("postgres", postgres_problem())
    from distributed.services import DroppingAsyncPostgresStore

    s = DroppingAsyncPostgresStore(POSTGRES_URL, schema="pgbatch_" + uuid.uuid4().hex[:10])
    try:
        yield s
    finally:
        await s.close()


def record(n: int) -> SessionRecord:
    return SessionRecord(
        key=f"key-{n}",
        handle=f"handle-{n}",
        user_id="alice",
        created_at=NOW,
        last_seen_at=NOW,
        expires_at=NOW + 600,
        data={"user": "alice"},
    )


def count_batches(store: Any, method: str) -> list[int]:
    sizes: list[int] = []
    original = getattr(store.plans, method)

    def counted(items: Any) -> Any:
        sizes.append(len(items))
        return original(items)

    setattr(store.plans, method, counted)
    return sizes


async def test_concurrent_updates_of_one_session_all_survive(store: Any) -> None:
    await store.create(record(1), now=NOW)
    sizes = count_batches(store, "update_many")
    for round_ in range(3):
        answers = await asyncio.gather(
            *(
                store.update(
                    "key-1", RecordUpdate(set_data={f"c{i}": round_}, last_seen_at=NOW + i)
                )
                for i in range(40)
            )
        )
        assert all(a is not None for a in answers)
    assert sizes and max(sizes) > 1  # they did travel together
    final = await store.get("key-1")
    assert {f"c{i}": 2 for i in range(40)}.items() <= final.data.items()
    assert final.last_seen_at == NOW + 39


async def test_each_caller_gets_its_own_record_and_missing_ones_none(store: Any) -> None:
    for n in range(3):
        await store.create(record(n), now=NOW)
    sizes = count_batches(store, "get_many")
    keys = ["key-0", "key-1", "key-1", "nope", "key-2"] * 4
    found = await asyncio.gather(*(store.get(k) for k in keys))
    assert sizes and max(sizes) > 1
    assert [r and r.key for r in found] == [None if k == "nope" else k for k in keys]
    same = [r for r in found if r is not None and r.key == "key-1"]
    assert len({id(r.data) for r in same}) == len(same)  # nothing shared between requests


async def test_a_revoke_is_seen_and_never_undone_by_a_batched_update(store: Any) -> None:
    await store.create(record(1), now=NOW)
    await store.create(record(2), now=NOW)
    assert await store.delete("key-1") is not None
    results = await asyncio.gather(
        store.update("key-1", RecordUpdate(set_data={"x": 1})),
        store.update("key-2", RecordUpdate(set_data={"x": 1})),
        store.get("key-1"),
    )
    assert results[0] is None and results[2] is None
    assert results[1] is not None and results[1].data["x"] == 1
    assert await store.get("key-1") is None


async def test_a_refused_update_fails_alone(store: Any) -> None:
    await store.create(record(1), now=NOW)
    # PostgreSQL text cannot hold NUL: this one update is refused (a 4xx-class data error).
    calls = [
        store.update("key-1", RecordUpdate(set_data={"a": 1})),
        store.update("key-\x00", RecordUpdate(set_data={"b": 1})),
        store.update("key-1", RecordUpdate(set_data={"c": 1})),
    ]
    ok1, bad, ok2 = await asyncio.gather(*calls, return_exceptions=True)
    assert isinstance(bad, SessionDataError)
    assert isinstance(ok1, SessionRecord) and isinstance(ok2, SessionRecord)
    assert {"a": 1, "c": 1}.items() <= (await store.get("key-1")).data.items()
