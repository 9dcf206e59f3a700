"""SQLite's one-statement update (stores/sqlite_update.py) is the Python merge, byte for byte."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessionward import SQLiteStore
from sessionward.core.records import encode_data
from sessionward.stores import RecordUpdate, SessionRecord
from sessionward.stores.base import apply_update
from sessionward.stores.sqlite_update import update_statement

NOW = 1_800_000_000.0
# Plain keys take the JSON-function path; the last four need the Python merge.
KEYS = [
    "a",
    "b",
    "c.d",
    "$x",
    "[0]",
    "é",
    "sp ace",
    "",
    "k'q",
    'a"b',
    "back\\slash",
    "nl\n",
    "\x00",
]
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**90), max_value=2**90)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
DELTA = st.builds(
    lambda sets, deletes, meta, seen, expires, reply: RecordUpdate(
        set_data=sets,
        delete_data=frozenset(deletes) - set(sets),
        set_meta=meta,
        last_seen_at=seen,
        expires_at=expires,
        reply_data=reply,
    ),
    st.dictionaries(st.sampled_from(KEYS), JSON, max_size=3),
    st.sets(st.sampled_from(KEYS), max_size=2),
    st.dictionaries(st.sampled_from(["renewed_at", "flags"]), JSON, max_size=1),
    st.none() | st.floats(min_value=NOW - 10, max_value=NOW + 10),
    st.none() | st.floats(min_value=NOW + 590, max_value=NOW + 610),
    st.booleans(),
)


def stored_data(store: SQLiteStore) -> Any:
    return store.db.conn().execute("SELECT data FROM sessionward_sessions").fetchone()[0]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(deltas=st.lists(DELTA, min_size=1, max_size=8))
def test_update_matches_the_python_merge_byte_for_byte(
    tmp_path: Path, deltas: list[RecordUpdate]
) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite3", purge_interval=None)
    try:
        store.delete_all()
        expected = SessionRecord(
            key="k",
            handle="h",
            user_id=None,
            created_at=NOW,
            last_seen_at=NOW,
            expires_at=NOW + 600,
            data={"user": "alice", "a": [1, {"x": None}]},
        )
        store.create(expected, now=NOW)
        for change in deltas:
            expected = apply_update(expected, change)
            reply = store.update("k", change)
            # Without reply_data the data may be left out (the Python merge still sends it).
            assert reply.with_data(expected.data, reply.meta) == expected
            assert reply.data == expected.data or (not change.reply_data and reply.data == {})
            assert store.get("k") == expected
            # Same keys in the same order, same text: what encode_data writes.
            assert stored_data(store) == encode_data(expected.data, max_bytes=1 << 30)
            assert list(json.loads(stored_data(store))) == list(expected.data)
    finally:
        store.close()


def test_keys_json_escapes_take_the_python_merge() -> None:
    assert update_statement("k", RecordUpdate(set_data={"plain": 1})) is not None
    for key in ('a"b', "back\\slash", "nl\n", "\x00", "\ud800"):
        assert update_statement("k", RecordUpdate(set_data={key: 1})) is None
        assert update_statement("k", RecordUpdate(delete_data=frozenset({key}))) is None


def test_update_of_a_missing_session_creates_nothing(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite3", purge_interval=None)
    try:
        assert store.update("gone", RecordUpdate(set_data={"a": 1}, last_seen_at=NOW)) is None
        assert store.list_all() == []
    finally:
        store.close()


def test_a_save_that_moves_no_time_leaves_the_indexed_time_columns_alone() -> None:
    # last_seen_at and expires_at are indexed: assigning them, even to the value they hold,
    # rewrites their index entries (a data-only save took 3x as long). Only a touch sets them.
    plain = update_statement("k", RecordUpdate(set_data={"a": 1}))
    assert plain is not None and "last_seen_at =" not in plain[0] and "expires_at =" not in plain[0]
    seen = update_statement("k", RecordUpdate(last_seen_at=NOW))
    assert seen is not None and "last_seen_at =" in seen[0] and "expires_at =" not in seen[0]
    both = update_statement("k", RecordUpdate(last_seen_at=NOW, expires_at=NOW + 1))
    assert both is not None and both[1][-3:] == (NOW, NOW + 1, "k")


def test_an_empty_delta_reports_the_row_and_changes_nothing(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite3", purge_interval=None)
    record = SessionRecord(
        key="k" * 64,
        handle="h" * 22,
        user_id=None,
        created_at=NOW,
        last_seen_at=NOW,
        expires_at=NOW + 60,
        data={"a": 1},
    )
    store.create(record, now=NOW)
    assert store.update(record.key, RecordUpdate()) == record
    assert store.update("x" * 64, RecordUpdate()) is None
    assert store.get(record.key) == record
    store.close()
