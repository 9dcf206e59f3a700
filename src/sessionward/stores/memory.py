"""An in-process store for tests and single-process development.

Data is kept as a real store would hold it, so an app that works here does not depend on object
identity or on values a real store cannot keep: what a read gives back equals, value for value
and type for type, what a JSON round trip gives. A mapping of ASCII keys to immutable scalars
(the common session) is that already, so it is kept as a private dict and copied; anything else
(nested lists or dicts, non-ASCII text, a tuple, a large integer) is kept as JSON text.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from typing import Any

from ..core.records import SessionRecord, decode_data, encode_data
from ..errors import DuplicateKey
from .base import RecordUpdate, SessionLimit, select_evictions, updated_record

# A stored mapping (data or meta): a private dict no caller holds, whose values are all
# immutable and survive a JSON round trip as they are, or the mapping's JSON text.
_Kept = dict[str, Any] | str

# A stored row: a record and its data and meta as kept. Reads build their record from the kept
# forms, so what a caller gets back never shares a mutable object with what the store holds;
# the row record's own ``data`` and ``meta`` are never read.
_Row = tuple[SessionRecord, _Kept, _Kept]

# Integers a JSON round trip gives back unchanged whatever the interpreter's digit limit.
_INT_BOUND = 1 << 64


def _as_is(value: Any) -> bool:
    """Whether ``value`` is immutable and comes back from a JSON round trip as it is."""
    kind = type(value)
    if kind is str:
        text: str = value
        return text.isascii()  # other text is checked by the encoder (a lone surrogate)
    if kind is bool or value is None:
        return True
    if kind is int:
        number: int = value
        return -_INT_BOUND < number < _INT_BOUND
    return kind is float and math.isfinite(value)


def _keep(mapping: Mapping[str, Any]) -> _Kept:
    for key, value in mapping.items():
        if not (type(key) is str and key.isascii() and _as_is(value)):
            return encode_data(mapping, max_bytes=1 << 30)
    return dict(mapping)


def _read(kept: _Kept) -> dict[str, Any]:
    return dict(kept) if isinstance(kept, dict) else decode_data(kept)


class MemoryStore:
    """A thread-safe dictionary store. Sessions vanish with the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[str, _Row] = {}
        self._handles: dict[str, str] = {}

    @staticmethod
    def _freeze(record: SessionRecord) -> _Row:
        return record, _keep(record.data), _keep(record.meta)

    @staticmethod
    def _thaw(row: _Row) -> SessionRecord:
        record, data, meta = row
        return record.with_data(_read(data), _read(meta))

    def _user_rows(self, user_id: str) -> list[SessionRecord]:
        return [self._thaw(row) for row in self._rows.values() if row[0].user_id == user_id]

    def _remove(self, key: str) -> SessionRecord | None:
        row = self._rows.pop(key, None)
        if row is None:
            return None
        self._handles.pop(row[0].handle, None)
        return self._thaw(row)

    def create(
        self,
        record: SessionRecord,
        *,
        now: float,
        replaces: str | None = None,
        limit: SessionLimit | None = None,
    ) -> list[SessionRecord]:
        frozen = self._freeze(record)
        with self._lock:
            if record.key in self._rows or self._handles.get(record.handle, replaces) != replaces:
                raise DuplicateKey("session key or handle already exists")
            evicted: list[SessionRecord] = []
            if limit is not None and record.user_id is not None:
                live = [
                    r
                    for r in self._user_rows(record.user_id)
                    if r.expires_at > now and r.key != replaces
                ]
                evicted = select_evictions(live, limit, record.user_id)
            if replaces is not None:
                self._remove(replaces)
            for old in evicted:
                self._remove(old.key)
            self._rows[record.key] = frozen
            self._handles[record.handle] = record.key
            return evicted

    def get(self, key: str) -> SessionRecord | None:
        with self._lock:
            row = self._rows.get(key)
            return None if row is None else self._thaw(row)

    def get_by_handle(self, handle: str) -> SessionRecord | None:
        with self._lock:
            key = self._handles.get(handle)
            return None if key is None else self._thaw(self._rows[key])

    def update(self, key: str, change: RecordUpdate) -> SessionRecord | None:
        with self._lock:
            row = self._rows.get(key)
            if row is None:
                return None
            record, data, meta = row
            updated = updated_record(record, _read(data), _read(meta), change)
            # Stored with the record it came from: only data, meta and the times change, and
            # the row's record is never handed out (reads build their own from the kept forms).
            self._rows[key] = (updated, _keep(updated.data), _keep(updated.meta))
            return updated

    def delete(self, key: str) -> SessionRecord | None:
        with self._lock:
            return self._remove(key)

    def list_by_user(self, user_id: str) -> list[SessionRecord]:
        with self._lock:
            rows = self._user_rows(user_id)
        return sorted(rows, key=lambda r: r.last_seen_at, reverse=True)

    def list_all(self, *, limit: int = 1000) -> list[SessionRecord]:
        with self._lock:
            rows = [self._thaw(row) for row in self._rows.values()]
        return sorted(rows, key=lambda r: r.last_seen_at, reverse=True)[:limit]

    def delete_by_user(self, user_id: str, *, keep: str | None = None) -> list[SessionRecord]:
        with self._lock:
            doomed = [r.key for r in self._user_rows(user_id) if r.key != keep]
            return [r for r in map(self._remove, doomed) if r is not None]

    def delete_all(self) -> int:
        with self._lock:
            count = len(self._rows)
            self._rows.clear()
            self._handles.clear()
            return count

    def purge_expired(self, now: float) -> int:
        with self._lock:
            doomed = [key for key, row in self._rows.items() if row[0].expires_at <= now]
            for key in doomed:
                self._remove(key)
            return len(doomed)

    def renew(
        self, key: str, new_key: str, stub: SessionRecord, *, handle: str
    ) -> SessionRecord | None:
        frozen_stub = self._freeze(stub)
        with self._lock:
            row = self._rows.get(key)
            if row is None or row[0].handle != handle or new_key in self._rows:
                return None
            if stub.handle in self._handles:
                raise DuplicateKey("session key or handle already exists")
            moved = (row[0].evolve(key=new_key), row[1], row[2])
            self._rows[new_key] = moved
            self._handles[handle] = new_key
            self._rows[key] = frozen_stub
            self._handles[stub.handle] = key
            return self._thaw(moved)

    def close(self) -> None:
        return None
