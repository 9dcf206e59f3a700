"""The behaviour every store promises (see ``sessionward.stores.base``), run on each of them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sessionward import SessionLimitExceeded
from sessionward.core.session_tokens import new_token, token_key
from sessionward.errors import DuplicateKey, StoreUnavailable
from sessionward.stores import RecordUpdate, SessionLimit, SessionRecord

from .stores import FACTORIES, PLACE, handle_for, key_in, user_key

NOW = 1_800_000_000.0


@pytest.fixture(params=sorted(FACTORIES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    s = FACTORIES[request.param](tmp_path)
    s.delete_all()
    yield s
    s.delete_all()
    s.close()


def make(
    user: str | None = "alice",
    *,
    seen: float = NOW,
    expires: float = NOW + 1800,
    data: dict[str, Any] | None = None,
) -> SessionRecord:
    return SessionRecord(
        key=(key := user_key(user)),
        handle=handle_for(key),
        user_id=user,
        created_at=seen,
        last_seen_at=seen,
        expires_at=expires,
        authenticated_at=seen if user else None,
        origin="login" if user else "anonymous",
        ip="192.0.2.7",
        user_agent="Firefox/130",
        data=data if data is not None else {"cart": [1, 2], "name": "Zoë"},
    )


def test_create_then_get_round_trips_every_field(store: Any) -> None:
    record = make()
    assert store.create(record, now=NOW) == []
    assert store.get(record.key) == record
    assert store.get_by_handle(record.handle) == record


def test_get_of_unknown_key_returns_none_and_creates_nothing(store: Any) -> None:
    key = token_key(new_token())
    assert store.get(key) is None
    assert store.get(key) is None
    assert store.list_all() == []


def test_update_merges_per_key_instead_of_overwriting(store: Any) -> None:
    record = make(data={"a": 1, "b": 2, "c": 3})
    store.create(record, now=NOW)
    store.update(record.key, RecordUpdate(set_data={"a": 10}))
    store.update(record.key, RecordUpdate(set_data={"b": 20}, delete_data=frozenset({"c"})))
    assert store.get(record.key).data == {"a": 10, "b": 20}


def test_update_of_missing_record_returns_none_and_never_resurrects(store: Any) -> None:
    record = make()
    store.create(record, now=NOW)
    assert store.delete(record.key) == record
    assert store.update(record.key, RecordUpdate(set_data={"x": 1}, last_seen_at=NOW + 5)) is None
    assert store.get(record.key) is None
    assert store.get_by_handle(record.handle) is None


def test_last_seen_and_expiry_only_move_forward(store: Any) -> None:
    record = make()
    store.create(record, now=NOW)
    store.update(record.key, RecordUpdate(last_seen_at=NOW + 100, expires_at=NOW + 1900))
    after = store.update(record.key, RecordUpdate(last_seen_at=NOW + 50, expires_at=NOW + 1850))
    assert (after.last_seen_at, after.expires_at) == (NOW + 100, NOW + 1900)
    assert store.get(record.key).last_seen_at == NOW + 100


def test_update_merges_meta(store: Any) -> None:
    record = make()
    store.create(record, now=NOW)
    store.update(record.key, RecordUpdate(set_meta={"flag": "ip-change"}))
    assert store.get(record.key).meta == {"flag": "ip-change"}


@pytest.mark.parametrize("touch", [False, True], ids=["data-only", "touch"])
def test_a_save_reply_without_data_is_the_stored_record_in_every_other_field(
    store: Any, touch: bool, request: pytest.FixtureRequest
) -> None:
    """``reply_data=False`` (the end-of-request save): ``data`` may come back empty, but the
    fixed fields and every meta key sessionward writes are those stored, changes included."""
    record = make(data={"a": 1, "b": [2]}).evolve(
        meta={"renewed_at": NOW, "flags": ["ip_change"], "device": "Firefox 130 on Linux"}
    )
    store.create(record, now=NOW)
    change = RecordUpdate(
        set_data={"a": 2},
        delete_data=frozenset({"b"}),
        set_meta={"reauth_required": True} if touch else {},
        last_seen_at=NOW + 60 if touch else None,
        expires_at=NOW + 1860 if touch else None,
        reply_data=False,
    )
    reply = store.update(record.key, change)
    stored = store.get(record.key)
    assert stored.data == {"a": 2}
    # The memory store keeps the hint's default; every store with I/O sends no data back.
    honours = not request.node.callspec.params["store"].startswith("memory")
    assert reply.data == ({} if honours else stored.data)
    assert reply.with_data(stored.data, reply.meta) == stored
    assert stored.meta["flags"] == ["ip_change"]
    assert ("reauth_required" in stored.meta) is touch


@pytest.mark.parametrize("touch", [False, True], ids=["data-only", "touch"])
def test_a_save_reply_without_data_of_a_missing_record_is_none(store: Any, touch: bool) -> None:
    record = make()
    store.create(record, now=NOW)
    store.delete(record.key)
    change = RecordUpdate(
        set_data={"x": 1}, last_seen_at=NOW + 5 if touch else None, reply_data=False
    )
    assert store.update(record.key, change) is None
    assert store.get(record.key) is None
    assert store.list_all() == []


def test_create_with_replaces_kills_the_old_key_atomically(store: Any) -> None:
    old = make()
    store.create(old, now=NOW)
    new = make()
    store.create(new, now=NOW, replaces=old.key)
    assert store.get(old.key) is None
    assert store.get_by_handle(old.handle) is None
    assert store.get(new.key) == new


def _anonymous_elsewhere() -> SessionRecord:
    """An anonymous session in another bucket than alice's, for every number of buckets."""
    key = key_in(PLACE.of_text("alice") ^ 1)
    return make(None).evolve(key=key, handle=handle_for(key))


def test_a_login_replaces_a_session_kept_in_another_bucket(store: Any) -> None:
    """Leaving an anonymous session (or another user's): a store with buckets keeps it in
    another bucket than the user's, and replacing it still kills it, handle and all."""
    old, other = _anonymous_elsewhere(), make("alice")
    store.create(old, now=NOW)
    store.create(other, now=NOW)
    new = make("alice")
    evicted = store.create(new, now=NOW, replaces=old.key, limit=SessionLimit(1, "evict_oldest"))
    assert [r.handle for r in evicted] == [other.handle]
    assert store.get(old.key) is None
    assert store.get_by_handle(old.handle) is None
    assert store.get(new.key) == new
    assert [r.handle for r in store.list_by_user("alice")] == [new.handle]


def test_a_refused_login_leaves_the_session_of_another_bucket_alone(store: Any) -> None:
    old, other = _anonymous_elsewhere(), make("alice")
    store.create(old, now=NOW)
    store.create(other, now=NOW)
    refused = make("alice")
    with pytest.raises(SessionLimitExceeded):
        store.create(refused, now=NOW, replaces=old.key, limit=SessionLimit(1, "reject_new"))
    assert store.get(old.key) == old
    assert store.get(refused.key) is None


def test_rotation_may_keep_the_handle(store: Any) -> None:
    old = make()
    store.create(old, now=NOW)
    new = make().evolve(handle=old.handle)
    store.create(new, now=NOW, replaces=old.key)
    assert store.get_by_handle(old.handle) == new
    assert store.get(old.key) is None


def test_delete_returns_none_for_unknown(store: Any) -> None:
    assert store.delete(token_key(new_token())) is None


def test_list_and_delete_by_user(store: Any) -> None:
    a1, a2 = make("alice", seen=NOW), make("alice", seen=NOW + 10)
    b1 = make("bob")
    for r in (a1, a2, b1):
        store.create(r, now=NOW)
    assert [r.handle for r in store.list_by_user("alice")] == [a2.handle, a1.handle]
    gone = store.delete_by_user("alice", keep=a2.key)
    assert [r.handle for r in gone] == [a1.handle]
    assert [r.handle for r in store.list_by_user("alice")] == [a2.handle]
    assert {r.handle for r in store.delete_by_user("alice")} == {a2.handle}
    assert store.list_by_user("alice") == []
    assert store.get(b1.key) == b1


def test_list_all_orders_by_last_seen_and_limits(store: Any) -> None:
    records = [make(f"u{i}", seen=NOW + i) for i in range(5)]
    for r in records:
        store.create(r, now=NOW)
    assert [r.user_id for r in store.list_all(limit=3)] == ["u4", "u3", "u2"]


def test_delete_all(store: Any) -> None:
    for i in range(3):
        store.create(make(f"u{i}"), now=NOW)
    assert store.delete_all() == 3
    assert store.list_all() == []


def test_purge_expired_removes_only_expired(store: Any) -> None:
    live, dead = make(expires=NOW + 100), make(expires=NOW - 1)
    store.create(live, now=NOW)
    store.create(dead, now=NOW)
    assert store.purge_expired(NOW) == 1
    assert store.get(dead.key) is None
    assert store.get(live.key) == live


def test_limit_evicts_oldest_by_last_seen(store: Any) -> None:
    olds = [make("alice", seen=NOW + i) for i in range(3)]
    for r in olds:
        store.create(r, now=NOW)
    newest = make("alice", seen=NOW + 10)
    evicted = store.create(newest, now=NOW, limit=SessionLimit(3, "evict_oldest"))
    assert [r.handle for r in evicted] == [olds[0].handle]
    assert {r.handle for r in store.list_by_user("alice")} == {
        olds[1].handle,
        olds[2].handle,
        newest.handle,
    }


def test_limit_reject_new_changes_nothing(store: Any) -> None:
    olds = [make("alice") for _ in range(2)]
    for r in olds:
        store.create(r, now=NOW)
    extra = make("alice")
    with pytest.raises(SessionLimitExceeded):
        store.create(extra, now=NOW, limit=SessionLimit(2, "reject_new"))
    assert store.get(extra.key) is None
    assert len(store.list_by_user("alice")) == 2


def test_limit_ignores_expired_sessions_and_the_replaced_one(store: Any) -> None:
    dead = make("alice", expires=NOW - 1)
    current = make("alice")
    store.create(dead, now=NOW)
    store.create(current, now=NOW)
    rotated = make("alice")
    evicted = store.create(
        rotated, now=NOW, replaces=current.key, limit=SessionLimit(1, "reject_new")
    )
    assert evicted == []
    assert store.get(rotated.key) == rotated


def test_unicode_and_nested_data_survive(store: Any) -> None:
    data = {"emoji": "🔐", "nested": {"list": [1, 2.5, None, True, "x"]}, "empty": {}}
    record = make(data=data)
    store.create(record, now=NOW)
    assert store.get(record.key).data == data


def test_sql_metacharacters_are_plain_data(store: Any) -> None:
    nasty = "'; DROP TABLE sessionward_sessions; --"
    record = make(user=nasty, data={nasty: nasty})
    store.create(record, now=NOW)
    assert store.get(record.key).data == {nasty: nasty}
    assert [r.handle for r in store.list_by_user(nasty)] == [record.handle]
    assert store.get(nasty) is None


def test_create_refuses_an_existing_key_or_handle_with_duplicate_key(store: Any) -> None:
    """A clash is a programming error (DuplicateKey, a ValueError), never an outage (503)."""
    record = make()
    store.create(record, now=NOW)
    with pytest.raises(DuplicateKey, match="already exists") as raised:
        store.create(make().evolve(key=record.key), now=NOW)
    assert isinstance(raised.value, ValueError)
    assert not isinstance(raised.value, StoreUnavailable)
    with pytest.raises(DuplicateKey, match="already exists"):
        store.create(make().evolve(handle=record.handle), now=NOW)
    assert store.get(record.key) == record


def test_every_json_string_round_trips_including_nul_and_lone_escapes(store: Any) -> None:
    """Values an app copies from user input must be stored as given, on every backend."""
    data = {
        "nul": "before\x00after",
        "controls": "\t\n\r\x1b\x7f",
        "escapes": '\\u0000 \\\\ "quoted"',
        "astral": "\U0001f510",
        "nested": {"list": ["\x00", {"deep": "\x00\x00"}]},
    }
    record = make(data=data)
    store.create(record, now=NOW)
    assert store.get(record.key).data == data
    store.update(record.key, RecordUpdate(set_data={"later": "x\x00y"}))
    assert store.get(record.key).data == {**data, "later": "x\x00y"}


def _typed(value: Any) -> Any:
    """``value`` with the type of every part beside it, so ``1`` and ``True`` compare unequal."""
    if isinstance(value, dict):
        return ("dict", {k: _typed(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_typed(v) for v in value])
    return (type(value).__name__, value)


def test_a_read_gives_what_a_json_round_trip_gives_and_shares_nothing(store: Any) -> None:
    """Every store hands back JSON's values, type for type, never an object a caller holds."""
    cart = [1, 2]
    data = {
        "pair": (1, "two"),
        "cart": cart,
        "half": 1.5,
        "minus_zero": -0.0,
        "big": 2**70,
        "flag": True,
        "one": 1,
        "none": None,
        "name": "Zoë",
        "nested": {"a": [1, {"b": (2,)}]},
    }
    expected = json.loads(json.dumps(data))
    record = make(data=data)
    store.create(record, now=NOW)
    cart.append(3)  # the caller's list changes after the write: the store's must not
    first = store.get(record.key)
    assert _typed(first.data) == _typed(expected)
    first.data["nested"]["a"].append("mutated by a reader")
    assert _typed(store.get(record.key).data) == _typed(expected)

    later = ["x"]
    store.update(record.key, RecordUpdate(set_data={"later": later, "pair": (3, 4)}))
    later.append("y")
    expected.update(later=["x"], pair=[3, 4])
    assert _typed(store.get(record.key).data) == _typed(expected)
    store.update(record.key, RecordUpdate(set_data={"one": 2}))
    assert _typed(store.get(record.key).data) == _typed({**expected, "one": 2})
