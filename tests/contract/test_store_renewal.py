"""``Store.renew``: the atomic move behind token renewal, on every store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sessionward.core.session_tokens import new_handle
from sessionward.stores import RecordUpdate, SessionRecord

from .stores import FACTORIES, PLACE, handle_for, key_in, user_key

NOW = 1_800_000_000.0


@pytest.fixture(params=sorted(FACTORIES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    s = FACTORIES[request.param](tmp_path)
    s.delete_all()
    yield s
    s.delete_all()
    s.close()


def make(user: str | None = "alice", **changes: Any) -> SessionRecord:
    record = SessionRecord(
        key=(key := user_key(user)),
        handle=handle_for(key),
        user_id=user,
        created_at=NOW,
        last_seen_at=NOW,
        expires_at=NOW + 1800,
        authenticated_at=NOW if user else None,
        origin="login" if user else "anonymous",
        data={"a": 1},
    )
    return record.evolve(**changes)


def stub_for(record: SessionRecord) -> SessionRecord:
    return SessionRecord(
        key=record.key,
        handle=handle_for(record.key),
        user_id=None,
        created_at=NOW,
        last_seen_at=NOW,
        expires_at=NOW + 10,
        origin="renewal",
        meta={"renewal_stub": {"nonce": "n", "until": NOW + 10}},
    )


def test_renew_moves_the_record_as_stored_now_and_leaves_the_stub(store: Any) -> None:
    record = make()
    store.create(record, now=NOW)
    store.update(record.key, RecordUpdate(set_data={"b": 2}))  # a change the caller never saw
    new_key = key_in(PLACE.of_key(record.key))
    stub = stub_for(record)
    moved = store.renew(record.key, new_key, stub, handle=record.handle)
    assert moved is not None
    assert (moved.key, moved.handle, moved.data) == (new_key, record.handle, {"a": 1, "b": 2})
    assert store.get(new_key) == moved
    assert store.get(record.key) == stub
    assert store.get_by_handle(record.handle) == moved
    assert [r.key for r in store.list_by_user("alice")] == [new_key]
    assert store.update(new_key, RecordUpdate(set_data={"c": 3})).data == {"a": 1, "b": 2, "c": 3}


def test_renew_of_missing_or_foreign_record_changes_nothing(store: Any) -> None:
    record = make()
    store.create(record, now=NOW)
    new_key = key_in(PLACE.of_key(record.key))
    assert store.renew(record.key, new_key, stub_for(record), handle=new_handle()) is None
    gone = key_in(PLACE.of_key(record.key))
    assert store.renew(gone, new_key, stub_for(make().evolve(key=gone)), handle="x") is None
    assert store.get(new_key) is None
    assert store.get(record.key) == record


def test_renew_twice_from_the_same_key_moves_once(store: Any) -> None:
    record = make()
    store.create(record, now=NOW)
    first, second = (key_in(PLACE.of_key(record.key)) for _ in range(2))
    assert store.renew(record.key, first, stub_for(record), handle=record.handle) is not None
    assert store.renew(record.key, second, stub_for(record), handle=record.handle) is None
    assert store.get(second) is None
    assert store.get(first) is not None


def test_stubs_are_deleted_and_purged_like_records(store: Any) -> None:
    record = make()
    store.create(record, now=NOW)
    new_key = key_in(PLACE.of_key(record.key))
    store.renew(record.key, new_key, stub_for(record), handle=record.handle)
    assert store.purge_expired(NOW + 11) == 1
    assert store.get(record.key) is None
    assert store.get(new_key) is not None
    assert store.delete(new_key) is not None
