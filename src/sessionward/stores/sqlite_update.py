"""The SQLite session store's per-key update as one statement, merged by SQLite's JSON functions.

``update`` is the write of almost every request. In Python it is five statements (``BEGIN
IMMEDIATE``, ``SELECT``, ``UPDATE``, ``COMMIT``) plus a decode and a re-encode of the whole
session; here it is one ``UPDATE ... RETURNING`` that applies the delta with ``json_remove`` and
``json_set`` to the row as stored *now*. A single statement is atomic in autocommit mode and
holds the database's write lock while it runs, so concurrent per-key deltas (from threads or
other processes) all survive and a deleted row is not recreated, exactly as with the Python
merge (:func:`sessionward.stores.base.apply_update`, whose semantics this follows: deletions
first, then sets; an existing key keeps its place, a new one goes last; times only move
forward).

SQLite keeps number and string text verbatim when it re-renders a JSON document, so the stored
form is what ``encode_data`` would have written. Its JSON path names a key as ``$."name"`` with
no escape for ``"``, and matches the label against the stored key's raw text: a key that
``json.dumps`` writes with an escape (``"``, ``\\``, a control character) or that cannot be
UTF-8 (a lone surrogate) cannot be addressed that way, so for a delta naming such a key
:func:`update_statement` returns ``None`` and the store merges in Python instead.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from ..core.records import encode_data
from .base import RECORD_COLUMNS, RecordUpdate

COLUMNS = ", ".join(RECORD_COLUMNS)
# The same columns with no data (``RecordUpdate.reply_data`` false): the save of every request
# neither reads back nor decodes the session's data.
REPLY_COLUMNS = ", ".join("'{}'" if name == "data" else name for name in RECORD_COLUMNS)
# Characters json.dumps(ensure_ascii=False) writes as themselves inside a key.
_PLAIN_KEY = re.compile(r'[^"\\\x00-\x1f\ud800-\udfff]*')


@lru_cache(maxsize=512)
def _statement(
    deleted: int, data: int, meta: int, seen: bool, expires: bool, reply_data: bool
) -> str:
    """The UPDATE for a delta of that shape (SQLite's statement cache keys on this text).

    ``last_seen_at`` and ``expires_at`` are indexed: a statement that assigns them rewrites
    their index entries even when the value stays, so they are set only when the delta moves
    them (a data-only save, the usual one, was 3x slower with them: docs/benchmarks.md).
    """
    sets = []
    if deleted or data:
        expr = "data"
        if deleted:
            expr = f"json_remove({expr}, {', '.join(['?'] * deleted)})"
        if data:
            expr = f"json_set({expr}, {', '.join(['?, json(?)'] * data)})"
        sets.append(f"data = {expr}")
    if meta:
        sets.append(f"meta = json_set(meta, {', '.join(['?, json(?)'] * meta)})")
    if seen:
        sets.append("last_seen_at = max(last_seen_at, ?)")
    if expires:
        sets.append("expires_at = max(expires_at, ?)")
    if not sets:  # nothing to change: the statement still reports whether the row exists
        sets.append("meta = meta")
    return (
        f"UPDATE sessionward_sessions SET {', '.join(sets)} "  # noqa: S608 (no input in it)
        f"WHERE key = ? RETURNING {COLUMNS if reply_data else REPLY_COLUMNS}"
    )


def _value(value: Any) -> str:
    # The session's size limit is the policy's, checked by the flows before a save.
    return encode_data({"v": value}, max_bytes=1 << 30)[5:-1]


def _path(name: str) -> str | None:
    return f'$."{name}"' if _PLAIN_KEY.fullmatch(name) else None


def update_statement(key: str, change: RecordUpdate) -> tuple[str, tuple[Any, ...]] | None:
    """The statement and parameters that apply ``change`` to ``key``'s row and return it, or
    ``None`` when a key in the delta needs the Python merge (see the module docstring)."""
    params: list[Any] = []
    for name in sorted(change.delete_data):
        path = _path(name)
        if path is None:
            return None
        params.append(path)
    for name, value in change.set_data.items():
        path = _path(name)
        if path is None:
            return None
        params += (path, _value(value))
    for name, value in change.set_meta.items():
        path = _path(name)
        if path is None:
            return None
        params += (path, json.dumps(value, separators=(",", ":")))
    seen, expires = change.last_seen_at is not None, change.expires_at is not None
    if seen:
        params.append(change.last_seen_at)
    if expires:
        params.append(change.expires_at)
    params.append(key)
    shape = (len(change.delete_data), len(change.set_data), len(change.set_meta), seen, expires)
    return _statement(*shape, change.reply_data), tuple(params)
