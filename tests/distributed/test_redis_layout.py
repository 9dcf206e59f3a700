"""Redis specifics the generic contract cannot see: TTLs and the self-pruning user index."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import require_service
from sessionward import RecordUpdate, SessionLimit, SessionRecord
from sessionward.core.tokens import new_handle, new_token, token_key

from .services import REDIS_URL, redis_problem

NOW = 1_800_000_000.0


@pytest.fixture
def store() -> Iterator[Any]:
    require_service("redis", redis_problem())
    from sessionward.stores.redis import RedisStore

    s = RedisStore(url=REDIS_URL, prefix=f"swlayout_{uuid.uuid4().hex[:8]}")
    yield s
    s.delete_all()
    assert list(s.client.scan_iter(match=s._layout.tag + "*")) == []
    s.close()


def make(user: str = "alice", seen: float = NOW) -> SessionRecord:
    return SessionRecord(
        key=token_key(new_token()),
        handle=new_handle(),
        user_id=user,
        created_at=seen,
        last_seen_at=seen,
        expires_at=seen + 1800,
    )


def test_keys_expire_with_the_record_and_touches_push_them_forward(store: Any) -> None:
    record = make()
    store.create(record, now=NOW)
    layout, client = store._layout, store.client
    ms = int((NOW + 1800) * 1000)
    assert client.pexpiretime(layout.skey(record.key)) == ms
    assert client.pexpiretime(layout.hkey(record.handle)) == ms
    assert client.pexpiretime(layout.ukey("alice")) >= ms
    store.update(record.key, RecordUpdate(last_seen_at=NOW + 60, expires_at=NOW + 1860))
    later = int((NOW + 1860) * 1000)
    assert client.pexpiretime(layout.skey(record.key)) == later
    assert client.pexpiretime(layout.hkey(record.handle)) == later
    assert client.pexpiretime(layout.ukey("alice")) >= later


def test_the_user_index_prunes_sessions_redis_expired(store: Any) -> None:
    gone, kept = make(seen=NOW), make(seen=NOW + 1)
    store.create(gone, now=NOW)
    store.create(kept, now=NOW)
    layout, client = store._layout, store.client
    # What the TTL expiry does (both keys share the deadline), without waiting for it.
    client.delete(layout.skey(gone.key), layout.hkey(gone.handle))
    assert client.zcard(layout.ukey("alice")) == 2
    assert [r.key for r in store.list_by_user("alice")] == [kept.key]
    assert client.zrange(layout.ukey("alice"), 0, -1) == [kept.key.encode()]


def test_an_expired_member_does_not_count_against_the_limit(store: Any) -> None:
    first, second = make(seen=NOW), make(seen=NOW + 1)
    store.create(first, now=NOW)
    store.create(second, now=NOW)
    store.client.delete(store._layout.skey(first.key), store._layout.hkey(first.handle))
    third = make(seen=NOW + 2)
    assert store.create(third, now=NOW, limit=SessionLimit(2, "reject_new")) == []
    assert {r.key for r in store.list_by_user("alice")} == {second.key, third.key}
