"""The embedded default store: one SQLite file, safe for several threads and processes.

WAL lets readers proceed while one writer commits; every read-modify-write runs inside
``BEGIN IMMEDIATE`` so two processes cannot interleave a read and a write of the same session;
a busy timeout (plus a bounded retry) waits out other writers instead of surfacing
"database is locked" to a user.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar

from ..core.records import SessionRecord, decode_data, encode_data
from ..errors import ConfigurationError, DuplicateKey
from .base import (
    RecordUpdate,
    SessionLimit,
    apply_update,
    record_row,
    row_record,
    select_evictions,
)
from .sqlite_db import SQLiteBackend, WouldBlock, take_lease
from .sqlite_update import COLUMNS as _COLUMNS
from .sqlite_update import update_statement
from .sweeper import DEFAULT_BATCH, DEFAULT_INTERVAL, GRACE
from .threaded import ThreadedAsyncStore

T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R")


SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessionward_schema (
    version INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS sessionward_sessions (
    key TEXT PRIMARY KEY,
    handle TEXT NOT NULL UNIQUE,
    user_id TEXT,
    created_at REAL NOT NULL,
    last_seen_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    authenticated_at REAL,
    origin TEXT NOT NULL,
    ip TEXT,
    user_agent TEXT,
    data TEXT NOT NULL,
    meta TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessionward_sessions_by_user
    ON sessionward_sessions (user_id, last_seen_at) WHERE user_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS sessionward_sessions_by_expiry
    ON sessionward_sessions (expires_at);
"""


def _row_to_record(row: tuple[Any, ...]) -> SessionRecord:
    return row_record(row, decode_data, decode_data)


def _record_to_row(record: SessionRecord) -> tuple[Any, ...]:
    return record_row(record, _encode_data, _encode_meta)


def _encode_data(data: Mapping[str, Any]) -> str:
    return encode_data(data, max_bytes=1 << 30)


def _encode_meta(meta: Mapping[str, Any]) -> str:
    return json.dumps(dict(meta), separators=(",", ":"))


class SQLiteStore(SQLiteBackend):
    """Sessions in one SQLite database file (created with mode 0600 if missing).

    ``busy_timeout`` (seconds) bounds how long a call waits for another writer; past it the call
    raises :class:`~sessionward.errors.StoreUnavailable` and the integration answers 503.

    Expired sessions are purged automatically (:mod:`sessionward.stores.sweeper`): at most
    every ``purge_interval`` seconds a write starts a background round that deletes sessions
    expired for over an hour, ``purge_batch`` rows per transaction, one process at a time.
    ``purge_interval=None`` turns it off (then run ``sessionward purge`` from cron).
    """

    sweep_name = "sessions"
    schema = _SCHEMA
    version_table = "sessionward_schema"
    version = SCHEMA_VERSION

    def call_nowait(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run a store method only if it needs no lock wait; see ``SQLiteDatabase``."""
        return self.db.call_nowait(fn, *args, **kwargs)

    def checkpoint(self) -> None:
        """Copy committed WAL pages into the database file without waiting for readers."""
        self.db.checkpoint()

    # -- the Store protocol --------------------------------------------------------------

    def create(
        self,
        record: SessionRecord,
        *,
        now: float,
        replaces: str | None = None,
        limit: SessionLimit | None = None,
    ) -> list[SessionRecord]:
        row = _record_to_row(record)
        self.sweeper.poke(now)

        def create(conn: sqlite3.Connection) -> list[SessionRecord]:
            evicted: list[SessionRecord] = []
            if limit is not None and record.user_id is not None:
                live = [
                    r
                    for r in self._select(
                        conn, "user_id = ? AND expires_at > ?", (record.user_id, now)
                    )
                    if r.key != replaces
                ]
                evicted = select_evictions(live, limit, record.user_id)
            doomed = [r.key for r in evicted] + ([replaces] if replaces else [])
            conn.executemany(
                "DELETE FROM sessionward_sessions WHERE key = ?", [(k,) for k in doomed]
            )
            conn.execute(
                f"INSERT INTO sessionward_sessions ({_COLUMNS}) "  # noqa: S608 (constant)
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            return evicted

        try:
            return self.db.run(create, write=True)
        except sqlite3.IntegrityError as exc:
            raise DuplicateKey("session key or handle already exists") from exc

    @staticmethod
    def _select(
        conn: sqlite3.Connection, where: str, params: tuple[Any, ...], suffix: str = ""
    ) -> list[SessionRecord]:
        cursor = conn.execute(
            f"SELECT {_COLUMNS} FROM sessionward_sessions WHERE {where} {suffix}",  # noqa: S608
            params,
        )
        return [_row_to_record(row) for row in cursor.fetchall()]

    def _one(self, where: str, value: str) -> SessionRecord | None:
        rows = self.db.run(lambda conn: self._select(conn, where, (value,)), write=False)
        return rows[0] if rows else None

    def get(self, key: str) -> SessionRecord | None:
        return self._one("key = ?", key)

    def get_by_handle(self, handle: str) -> SessionRecord | None:
        return self._one("handle = ?", handle)

    def update(self, key: str, change: RecordUpdate) -> SessionRecord | None:
        merged = update_statement(key, change)
        if merged is not None:
            statement, params = merged

            def update_one(conn: sqlite3.Connection) -> SessionRecord | None:
                # fetchall: the statement must run to its end for autocommit to commit.
                rows = conn.execute(statement, params).fetchall()
                return _row_to_record(rows[0]) if rows else None

            return self.db.run(update_one, write=True, single=True)

        def update(conn: sqlite3.Connection) -> SessionRecord | None:
            rows = self._select(conn, "key = ?", (key,))
            if not rows:
                return None
            updated = apply_update(rows[0], change)
            conn.execute(
                "UPDATE sessionward_sessions SET data = ?, meta = ?, last_seen_at = ?, "
                "expires_at = ? WHERE key = ?",
                (
                    encode_data(updated.data, max_bytes=1 << 30),
                    json.dumps(dict(updated.meta), separators=(",", ":")),
                    updated.last_seen_at,
                    updated.expires_at,
                    key,
                ),
            )
            return updated

        return self.db.run(update, write=True)

    def _delete_where(self, where: str, params: tuple[Any, ...]) -> list[SessionRecord]:
        def delete(conn: sqlite3.Connection) -> list[SessionRecord]:
            doomed = self._select(conn, where, params)
            conn.executemany(
                "DELETE FROM sessionward_sessions WHERE key = ?", [(r.key,) for r in doomed]
            )
            return doomed

        return self.db.run(delete, write=True)

    def delete(self, key: str) -> SessionRecord | None:
        gone = self._delete_where("key = ?", (key,))
        return gone[0] if gone else None

    def list_by_user(self, user_id: str) -> list[SessionRecord]:
        return self.db.run(
            lambda conn: self._select(
                conn, "user_id = ?", (user_id,), "ORDER BY last_seen_at DESC"
            ),
            write=False,
        )

    def list_all(self, *, limit: int = 1000) -> list[SessionRecord]:
        return self.db.run(
            lambda conn: self._select(
                conn, "1 = 1", (int(limit),), "ORDER BY last_seen_at DESC LIMIT ?"
            ),
            write=False,
        )

    def delete_by_user(self, user_id: str, *, keep: str | None = None) -> list[SessionRecord]:
        return self._delete_where("user_id = ? AND key != ?", (user_id, keep or ""))

    def delete_all(self) -> int:
        return self.db.run(
            lambda conn: conn.execute("DELETE FROM sessionward_sessions").rowcount, write=True
        )

    def purge_expired(self, now: float) -> int:
        return self.db.run(
            lambda conn: (
                conn.execute(
                    "DELETE FROM sessionward_sessions WHERE expires_at <= ?", (now,)
                ).rowcount
            ),
            write=True,
        )

    def _sweep(self, now: float, batch: int, holder: str, until: float) -> int | None:
        def sweep(conn: sqlite3.Connection) -> int | None:
            if not take_lease(conn, "sessions", holder, now, until):
                return None
            return conn.execute(
                "DELETE FROM sessionward_sessions WHERE key IN (SELECT key FROM "
                "sessionward_sessions WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)",
                (now - self.sweeper.grace, batch),
            ).rowcount

        return self.db.run(sweep, write=True)

    def renew(
        self, key: str, new_key: str, stub: SessionRecord, *, handle: str
    ) -> SessionRecord | None:
        row = _record_to_row(stub)

        def renew(conn: sqlite3.Connection) -> SessionRecord | None:
            moved = conn.execute(
                "UPDATE sessionward_sessions SET key = ? WHERE key = ? AND handle = ?",
                (new_key, key, handle),
            )
            if moved.rowcount != 1:
                return None
            conn.execute(
                f"INSERT INTO sessionward_sessions ({_COLUMNS}) "  # noqa: S608 (constant)
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            return self._select(conn, "key = ?", (new_key,))[0]

        try:
            return self.db.run(renew, write=True)
        except sqlite3.IntegrityError:
            return None

    def close(self) -> None:
        self.sweeper.wait()
        self.db.close()


class AsyncSQLiteStore(ThreadedAsyncStore):
    """The SQLite store for async apps.

    A per-request call (a lookup, an update, a login) first runs on the event loop on a
    connection that never waits: in WAL mode it takes tens of microseconds, far less than
    handing it to a thread. Only when it would have to wait (another writer of this process is
    busy, or another process holds the write lock) does it go to a worker thread, which waits
    up to ``busy_timeout``; so a contended database never stalls the event loop. Bulk
    operations (listing everything, purging, deleting all) always run in a thread.

    Writes on the event loop never checkpoint the WAL (an fsync); instead, every
    ``checkpoint_every`` of them, the request that made the last one runs a passive
    checkpoint in a worker thread.
    """

    sync: SQLiteStore

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 5.0,
        checkpoint_every: int = 256,
        purge_interval: float | None = DEFAULT_INTERVAL,
        purge_batch: int = DEFAULT_BATCH,
        purge_grace: float = GRACE,
    ) -> None:
        if checkpoint_every < 1:
            raise ConfigurationError("checkpoint_every must be a positive number of writes")
        super().__init__(
            SQLiteStore(
                path,
                busy_timeout=busy_timeout,
                purge_interval=purge_interval,
                purge_batch=purge_batch,
                purge_grace=purge_grace,
            )
        )
        self.checkpoint_every = checkpoint_every
        self._inline_writes = 0

    async def _call(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        name = getattr(fn, "__name__", "")
        if name in _INLINE:
            try:
                result = self.sync.call_nowait(fn, *args, **kwargs)
            except WouldBlock:
                pass
            else:
                if name not in _READS:
                    self._inline_writes += 1
                    if self._inline_writes >= self.checkpoint_every:
                        self._inline_writes = 0
                        await super()._call(self.sync.checkpoint)
                return result
        return await super()._call(fn, *args, **kwargs)


#: Store methods that touch a handful of rows and may run on the event loop when uncontended.
_INLINE = frozenset(
    {
        "create",
        "get",
        "get_by_handle",
        "update",
        "delete",
        "list_by_user",
        "delete_by_user",
        "renew",
    }
)
_READS = frozenset({"get", "get_by_handle", "list_by_user"})
