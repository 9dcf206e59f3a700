"""The memory store keeps a plain session without JSON text; what it gives back is the same."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionward.core.session_tokens import new_token, token_key
from sessionward.errors import SessionDataError
from sessionward.stores import MemoryStore, RecordUpdate, SessionRecord

NOW = 1_800_000_000.0

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**90), max_value=2**90)  # beyond 64 bits too
    | st.floats()  # NaN and the infinities too: no store may keep them
    | st.text()  # lone surrogates too: no store may keep them
)
values = st.recursive(
    scalars | st.tuples(scalars),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    max_leaves=12,
)
sessions = st.dictionaries(st.text(), values, max_size=6)


def same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (1 and 1.0, True and 1 differ)."""
    return repr(a) == repr(b)


def round_trip(data: dict[str, Any]) -> dict[str, Any] | None:
    """What a store of JSON text gives back, or None where it must refuse the data."""
    try:
        text = json.dumps(data, ensure_ascii=False, allow_nan=False)
        text.encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        return None
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def record(data: dict[str, Any]) -> SessionRecord:
    key = token_key(new_token())
    return SessionRecord(
        key=key,
        handle="h" + key[:20],
        user_id=None,
        created_at=NOW,
        last_seen_at=NOW,
        expires_at=NOW + 60,
        authenticated_at=None,
        origin="anonymous",
        ip=None,
        user_agent=None,
        data=data,
    )


@given(sessions)
def test_a_created_session_reads_back_as_json_would_give_it(data: dict[str, Any]) -> None:
    store, expected = MemoryStore(), round_trip(data)
    if expected is None:
        with pytest.raises(SessionDataError):
            store.create(record(data), now=NOW)
        return
    created = record(data)
    store.create(created, now=NOW)
    assert same(store.get(created.key).data, expected)


@given(sessions)
def test_an_update_reads_back_as_json_would_give_it(written: dict[str, Any]) -> None:
    store, start = MemoryStore(), {"user": "alice", "n": 1}
    created = record(start)
    store.create(created, now=NOW)
    expected = round_trip({**start, **written})
    if expected is None:
        with pytest.raises(SessionDataError):
            store.update(created.key, RecordUpdate(set_data=written))
        assert same(store.get(created.key).data, start)  # a refused write changes nothing
        return
    store.update(created.key, RecordUpdate(set_data=written))
    assert same(store.get(created.key).data, expected)
