"""Redis specifics the generic contract cannot see: TTLs and the self-pruning user index."""

from __future__ import annotations

import itertools
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import require_service
from sessionward.core.session_tokens import new_handle, new_token, token_key
from sessionward.stores import RecordUpdate, SessionLimit, SessionRecord
from sessionward.stores import _redis_lua as lua

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


def _short_lived(user: str, now: float, lifetime: float) -> SessionRecord:
    return SessionRecord(
        key=token_key(new_token()),
        handle=new_handle(),
        user_id=user,
        created_at=now - 60,
        last_seen_at=now - 60,
        expires_at=now + lifetime,
    )


def test_many_short_logins_leave_the_index_about_as_large_as_the_live_sessions(
    store: Any,
) -> None:
    """Sessions that Redis expired leave the index on the next write (no listing needed)."""
    layout, client = store._layout, store.client
    now = time.time()
    keeper = _short_lived("bob", now, 3600)
    store.create(keeper, now=now)
    # Each of these has lived its whole life by Redis's clock: its keys are gone at once,
    # exactly as if its TTL had run out, and only the index could remember it.
    for _ in range(600):
        store.create(_short_lived("bob", now, -0.5), now=now)
        assert client.zcard(layout.ukey("bob")) <= 2
    assert [r.key for r in store.list_by_user("bob")] == [keeper.key]
    # The index lives as long as its longest-living member, not as long as the last login.
    assert client.pexpiretime(layout.ukey("bob")) == lua.expiry_ms(keeper.expires_at)


def test_the_index_ttl_shrinks_when_its_longest_member_leaves(store: Any) -> None:
    layout, client = store._layout, store.client
    now = time.time()
    short, long = _short_lived("cy", now, 600), _short_lived("cy", now, 7200)
    store.create(short, now=now)
    store.create(long, now=now)
    assert client.pexpiretime(layout.ukey("cy")) == lua.expiry_ms(long.expires_at)
    store.delete(long.key)
    store.list_by_user("cy")
    assert client.pexpiretime(layout.ukey("cy")) == lua.expiry_ms(short.expires_at)


def test_an_old_layout_index_keeps_working_and_is_converted_in_bounded_steps(
    store: Any,
) -> None:
    """The previous layout scored members by last-seen seconds and never trimmed them."""
    layout, client = store._layout, store.client
    now = time.time()
    live = [_short_lived("dee", now, 3600) for _ in range(3)]
    for record in live:
        store.create(record, now=now)
    index = layout.ukey("dee")
    stale = {f"gone{i}": now - 86400 + i for i in range(1000)}
    client.zadd(index, stale)
    client.zadd(index, {r.key: r.last_seen_at for r in live})  # the old scores
    client.expire(index, 86400)

    assert {r.key for r in store.list_by_user("dee")} == {r.key for r in live}
    sizes = [client.zcard(index)]
    while sizes[-1] > len(live) and len(sizes) < 20:
        store.create(_short_lived("dee", now, -0.5), now=now)
        sizes.append(client.zcard(index))
    # Each write converts or drops a bounded batch (no script walks the whole index) ...
    assert all(0 < a - b <= 2 * lua.INDEX_BATCH for a, b in itertools.pairwise(sizes)), sizes
    # ... until only the live sessions remain, scored by expiry and listed as before.
    assert sizes[-1] == len(live), sizes
    assert {r.key for r in store.list_by_user("dee")} == {r.key for r in live}
    assert client.zscore(index, live[0].key) == lua.expiry_ms(live[0].expires_at)
    assert {r.key for r in store.delete_by_user("dee")} == {r.key for r in live}
    assert client.exists(index) == 0


def test_log_out_everywhere_on_a_huge_index_works_in_batches(store: Any) -> None:
    layout, client = store._layout, store.client
    now = time.time()
    live = [_short_lived("eve", now, 3600) for _ in range(450)]
    for record in live:
        store.create(record, now=now)
    kept = live[0].key
    deleted = store.delete_by_user("eve", keep=kept)
    assert len(deleted) == 449
    assert client.zrange(layout.ukey("eve"), 0, -1) == [kept.encode()]


@pytest.fixture
def tokens() -> Iterator[Any]:
    require_service("redis", redis_problem())
    from sessionward.tokens.redis import RedisTokenStore

    prefix = f"swtoklayout_{uuid.uuid4().hex[:8]}"
    s = RedisTokenStore(url=REDIS_URL, prefix=prefix)
    yield s
    for name in s.client.scan_iter(match=s.layout.tag + "*"):
        s.client.delete(name)
    s.client.close()


def _token(session: str, now: float, lifetime: float) -> Any:
    from sessionward.tokens.refresh import RefreshRecord

    return RefreshRecord(
        key=token_key(new_token()),
        family="fam",
        session=session,
        user_id="ann",
        issued_at=now - 60,
        expires_at=now + lifetime,
    )


def test_a_sessions_refresh_token_index_holds_about_its_live_tokens(tokens: Any) -> None:
    now = time.time()
    live = _token("s1", now, 3600)
    tokens.add(live)
    for _ in range(300):  # tokens whose whole life has passed: Redis dropped their hashes
        tokens.add(_token("s1", now, -0.5))
        assert tokens.client.zcard(tokens.layout.session("s1")) <= 2
    index = tokens.layout.session("s1")
    assert tokens.client.pexpiretime(index) == lua.expiry_ms(live.expires_at)
    assert tokens.end_session("s1", now=now, until=now + 60) == 1
    assert tokens.get(live.key) is None


def test_an_old_layout_token_set_is_converted_and_still_ends_the_session(tokens: Any) -> None:
    now = time.time()
    first, second = _token("s2", now, 3600), _token("s2", now, 7200)
    tokens.add(first)
    index = tokens.layout.session("s2")
    # The previous layout: a plain SET of token keys.
    tokens.client.delete(index)
    tokens.client.sadd(index, first.key, "long-gone-token")
    assert tokens.end_session("s2", now=now, until=now + 60) == 1  # a SET still works
    tokens.add(first.evolve(key=token_key(new_token())))
    tokens.client.delete(index)
    tokens.client.sadd(index, first.key, "long-gone-token")
    tokens.add(second)  # the first write converts it
    assert tokens.client.type(index) == b"zset"
    assert set(tokens.client.zrange(index, 0, -1)) == {second.key.encode()}
    assert tokens.client.pexpiretime(index) == lua.expiry_ms(second.expires_at)


def test_ended_revocations_leave_the_list_as_it_is_written(tokens: Any) -> None:
    now = time.time()
    revoked = tokens.layout.revoked
    tokens.client.zadd(revoked, {f"old{i}": lua.expiry_ms(now - 100 - i) for i in range(450)})
    sizes = [tokens.client.zcard(revoked)]
    for i in range(4):
        tokens.end_session(f"live{i}", now=now, until=now + 600)
        sizes.append(tokens.client.zcard(revoked))
    assert sizes == [450, 251, 52, 3, 4]  # at most 200 trimmed per call, the live ones kept
    assert tokens.revocations(now).sessions == {f"live{i}" for i in range(4)}


@pytest.mark.parametrize("kind", ["sync", "async-multiplexed", "async-redis-py"])
def test_update_loads_its_script_when_redis_does_not_know_it(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fresh comment gives the script a SHA1 Redis has never seen: the same NOSCRIPT a
    # restarted server or SCRIPT FLUSH would answer (without flushing anyone else's scripts).
    require_service("redis", redis_problem())
    import anyio

    from sessionward.stores.redis import AsyncRedisStore, RedisStore

    monkeypatch.setattr(lua, "UPDATE", lua.UPDATE + f"\n-- {uuid.uuid4().hex}\n")
    prefix = f"swlayout_{uuid.uuid4().hex[:8]}"
    record = make()
    change = RecordUpdate(set_data={"n": 1}, delete_data=frozenset({"gone"}))
    if kind == "sync":
        sync = RedisStore(url=REDIS_URL, prefix=prefix)
        try:
            sync.create(record, now=NOW)
            stored = sync.update(record.key, change)
        finally:
            sync.delete_all()
            sync.close()
    else:

        async def run() -> SessionRecord | None:
            s = AsyncRedisStore(url=REDIS_URL, prefix=prefix, multiplex=kind.endswith("ed"))
            assert (s._fast is not None) == kind.endswith("ed")
            try:
                await s.create(record, now=NOW)
                return await s.update(record.key, change)
            finally:
                await s.delete_all()
                await s.close()

        stored = anyio.run(run)
    assert stored is not None and stored.data == {"n": 1}


def test_one_update_with_more_fields_than_one_redis_call_takes(store: Any) -> None:
    record = make()
    store.create(record, now=NOW)
    many = {f"k{i}": i for i in range(700)}  # the script sets 400 arguments per HSET call
    assert store.update(record.key, RecordUpdate(set_data=many)).data == many
    stored = store.update(record.key, RecordUpdate(delete_data=frozenset(list(many)[:650])))
    assert stored.data == {f"k{i}": i for i in range(650, 700)}
    assert store.update(token_key(new_token()), RecordUpdate(set_data={"x": 1})) is None


def test_a_save_after_a_delete_leaves_nothing_and_the_ttl_of_live_sessions_alone(
    store: Any,
) -> None:
    record = make()
    store.create(record, now=NOW)
    name = store._layout.skey(record.key)
    ttl = store.client.pexpiretime(name)
    # A data-only save is plain commands in MULTI; PEXPIRE NX must not touch a live TTL.
    assert store.update(record.key, RecordUpdate(set_data={"n": 1})).data == {"n": 1}
    assert store.client.pexpiretime(name) == ttl
    store.delete(record.key)
    assert store.update(record.key, RecordUpdate(set_data={"n": 2})) is None
    assert store.client.exists(name) == 0  # the fields it wrote were deleted again


def test_fields_without_a_handle_are_no_session(store: Any) -> None:
    # What a save racing a delete leaves for a moment (or for good, had its app died there).
    record = make()
    name = store._layout.skey(record.key)
    for command in lua.field_commands(name, RecordUpdate(set_data={"n": 1})) or []:
        store.client.execute_command(*command)
    assert 0 < store.client.pttl(name) <= lua.FIELDS_ONLY_TTL_MS
    assert store.get(record.key) is None
    touch = RecordUpdate(last_seen_at=NOW + 60, expires_at=NOW + 1860)
    assert store.update(record.key, touch) is None
    assert store.renew(record.key, token_key(new_token()), record, handle=record.handle) is None
    assert store.delete(record.key) is None
    assert store.client.exists(name) == 0


@pytest.mark.parametrize("touch", [False, True], ids=["data-only", "touch"])
def test_a_save_reply_without_data_reads_no_data_field(store: Any, touch: bool) -> None:
    # The end-of-request save (reply_data=False) reads back the fixed and meta fields only:
    # Redis sends, and the app decodes, none of the session's data.
    record = make().evolve(data={f"k{i}": i for i in range(30)}, meta={"renewed_at": NOW})
    store.create(record, now=NOW)
    change = RecordUpdate(
        set_data={"k0": "x"},
        last_seen_at=NOW + 60 if touch else None,
        expires_at=NOW + 1860 if touch else None,
        reply_data=False,
    )
    sent: list[tuple[Any, ...]] = []
    direct = store._direct
    transaction = direct.transaction

    def spy(*commands: tuple[Any, ...]) -> Any:
        sent.extend(commands)
        return transaction(*commands)

    direct.transaction = spy
    reply = store.update(record.key, change)
    assert sent[-1][0] == "HMGET" and not any(str(f).startswith("d:") for f in sent[-1][2:])
    assert reply.data == {} and reply.meta == {"renewed_at": NOW}
    assert reply == store.get(record.key).with_data({}, reply.meta)
    store.delete(record.key)
    assert store.update(record.key, change) is None
    assert store.client.exists(store._layout.skey(record.key)) == 0  # nothing resurrected


def test_every_meta_key_of_the_core_is_read_back() -> None:
    # A meta key missing from META_KEYS would vanish from a save's reply on Redis: every
    # ``META_... = "name"`` of the package must be listed.
    package = Path(lua.__file__).parent.parent
    names = {
        match.group(1)
        for path in package.rglob("*.py")
        for match in re.finditer(r'^META_\w+\s*=\s*"([^"]+)"', path.read_text(), re.M)
    }
    assert len(names) >= 9 and names == set(lua.META_KEYS)
