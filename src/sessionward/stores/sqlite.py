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
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from ..core.records import SessionRecord, decode_data, encode_data
from ..errors import ConfigurationError, StoreUnavailable
from .base import RecordUpdate, SessionLimit, apply_update, select_evictions
from .threaded import ThreadedAsyncStore

T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R")


class WouldBlock(Exception):
    """A no-wait call found the database busy; nothing was changed."""


SCHEMA_VERSION = 1
_COLUMNS = (
    "key, handle, user_id, created_at, last_seen_at, expires_at, authenticated_at, origin, "
    "ip, user_agent, data, meta"
)
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
    return SessionRecord(
        key=row[0],
        handle=row[1],
        user_id=row[2],
        created_at=row[3],
        last_seen_at=row[4],
        expires_at=row[5],
        authenticated_at=row[6],
        origin=row[7],
        ip=row[8],
        user_agent=row[9],
        data=decode_data(row[10]),
        meta=decode_data(row[11]),
    )


def _record_to_row(record: SessionRecord) -> tuple[Any, ...]:
    return (
        record.key,
        record.handle,
        record.user_id,
        record.created_at,
        record.last_seen_at,
        record.expires_at,
        record.authenticated_at,
        record.origin,
        record.ip,
        record.user_agent,
        encode_data(record.data, max_bytes=1 << 30),
        json.dumps(dict(record.meta), separators=(",", ":")),
    )


class SQLiteStore:
    """Sessions in one SQLite database file (created with mode 0600 if missing).

    ``busy_timeout`` (seconds) bounds how long a call waits for another writer; past it the call
    raises :class:`~sessionward.errors.StoreUnavailable` and the integration answers 503.
    """

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 5.0) -> None:
        if not isinstance(path, str | os.PathLike) or str(path) in ("", ":memory:"):
            raise ConfigurationError(
                "SQLiteStore needs a file path (':memory:' would give every thread its own "
                "empty database); use MemoryStore for an in-process store"
            )
        if busy_timeout <= 0:
            raise ConfigurationError("busy_timeout must be a positive number of seconds")
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        # Writers of this process queue here instead of spinning in SQLite's busy handler
        # (which sleeps in growing steps and made p99 latency explode under 32 writers).
        self._write_lock = threading.Lock()
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        self._migrate()

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    # -- connection handling -------------------------------------------------------------

    def _conn(self, *, nowait: bool = False) -> sqlite3.Connection:
        """This thread's connection; with ``nowait``, one that never waits for a lock."""
        name = "fast_conn" if nowait else "conn"
        conn: sqlite3.Connection | None = getattr(self._local, name, None)
        if conn is None:
            timeout = 0.0 if nowait else self.busy_timeout
            try:
                conn = sqlite3.connect(
                    self.path,
                    timeout=timeout,
                    isolation_level=None,
                    check_same_thread=False,
                )
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
                if nowait:
                    # The no-wait connection serves the event loop: it never runs a WAL
                    # checkpoint (an fsync) itself; see AsyncSQLiteStore.
                    conn.execute("PRAGMA wal_autocheckpoint=0")
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"cannot open SQLite database {self.path}: {exc}") from exc
            setattr(self._local, name, conn)
            with self._all_lock:
                self._all.append(conn)
        return conn

    def call_nowait(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Call a store method only if it can run without waiting for any lock.

        Raises :class:`WouldBlock` (having changed nothing) when another writer of this
        process, or another process, holds the write lock. The async store uses this to run
        uncontended calls on the event loop and hand only contended ones to a thread.
        """
        self._local.nowait = True
        try:
            return fn(*args, **kwargs)
        finally:
            self._local.nowait = False

    def _run(self, fn: Callable[[sqlite3.Connection], T], *, write: bool) -> T:
        """Run ``fn`` in one transaction; retry briefly when another writer holds the lock."""
        nowait: bool = getattr(self._local, "nowait", False)
        if not write:
            return self._attempts(fn, write=False, nowait=nowait)
        if nowait:
            if not self._write_lock.acquire(blocking=False):
                raise WouldBlock
        elif not self._write_lock.acquire(timeout=self.busy_timeout):
            raise StoreUnavailable(f"SQLite stayed locked for {self.busy_timeout}s")
        try:
            return self._attempts(fn, write=True, nowait=nowait)
        finally:
            self._write_lock.release()

    def _attempts(self, fn: Callable[[sqlite3.Connection], T], *, write: bool, nowait: bool) -> T:
        conn = self._conn(nowait=nowait)
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                return self._once(conn, fn, write=write)
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise StoreUnavailable(f"SQLite error: {exc}") from exc
                if nowait:
                    raise WouldBlock from exc
                if time.monotonic() >= deadline:
                    raise StoreUnavailable(
                        f"SQLite stayed locked for {self.busy_timeout}s"
                    ) from exc
                time.sleep(0.005)
            except sqlite3.DatabaseError as exc:
                raise StoreUnavailable(f"SQLite error: {exc}") from exc

    @staticmethod
    def _once(conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T], *, write: bool) -> T:
        if not write:
            # Every read is a single SELECT, atomic on its own in autocommit mode: no
            # BEGIN/COMMIT round of statements around it.
            return fn(conn)
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(conn)
            conn.execute("COMMIT")
        except BaseException:
            # Also when COMMIT itself failed: never leave a transaction open on the connection.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return result

    def _migrate(self) -> None:
        def migrate(conn: sqlite3.Connection) -> None:
            row = conn.execute(
                "SELECT name FROM sqlite_master WHERE name='sessionward_schema'"
            ).fetchone()
            if row is not None:
                found = conn.execute("SELECT max(version) FROM sessionward_schema").fetchone()[0]
                if found is not None and found > SCHEMA_VERSION:
                    raise ConfigurationError(
                        f"{self.path} has schema version {found}, newer than this sessionward "
                        f"({SCHEMA_VERSION}); upgrade sessionward"
                    )
                if found == SCHEMA_VERSION:
                    return
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("DELETE FROM sessionward_schema")
            conn.execute("INSERT INTO sessionward_schema (version) VALUES (?)", (SCHEMA_VERSION,))

        self._run(migrate, write=True)

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
            return self._run(create, write=True)
        except sqlite3.IntegrityError as exc:
            raise ValueError("session key or handle already exists") from exc

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
        rows = self._run(lambda conn: self._select(conn, where, (value,)), write=False)
        return rows[0] if rows else None

    def get(self, key: str) -> SessionRecord | None:
        return self._one("key = ?", key)

    def get_by_handle(self, handle: str) -> SessionRecord | None:
        return self._one("handle = ?", handle)

    def update(self, key: str, change: RecordUpdate) -> SessionRecord | None:
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

        return self._run(update, write=True)

    def _delete_where(self, where: str, params: tuple[Any, ...]) -> list[SessionRecord]:
        def delete(conn: sqlite3.Connection) -> list[SessionRecord]:
            doomed = self._select(conn, where, params)
            conn.executemany(
                "DELETE FROM sessionward_sessions WHERE key = ?", [(r.key,) for r in doomed]
            )
            return doomed

        return self._run(delete, write=True)

    def delete(self, key: str) -> SessionRecord | None:
        gone = self._delete_where("key = ?", (key,))
        return gone[0] if gone else None

    def list_by_user(self, user_id: str) -> list[SessionRecord]:
        return self._run(
            lambda conn: self._select(
                conn, "user_id = ?", (user_id,), "ORDER BY last_seen_at DESC"
            ),
            write=False,
        )

    def list_all(self, *, limit: int = 1000) -> list[SessionRecord]:
        return self._run(
            lambda conn: self._select(
                conn, "1 = 1", (int(limit),), "ORDER BY last_seen_at DESC LIMIT ?"
            ),
            write=False,
        )

    def delete_by_user(self, user_id: str, *, keep: str | None = None) -> list[SessionRecord]:
        return self._delete_where("user_id = ? AND key != ?", (user_id, keep or ""))

    def delete_all(self) -> int:
        return self._run(
            lambda conn: conn.execute("DELETE FROM sessionward_sessions").rowcount, write=True
        )

    def purge_expired(self, now: float) -> int:
        return self._run(
            lambda conn: (
                conn.execute(
                    "DELETE FROM sessionward_sessions WHERE expires_at <= ?", (now,)
                ).rowcount
            ),
            write=True,
        )

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
            return self._run(renew, write=True)
        except sqlite3.IntegrityError:
            return None

    def checkpoint(self) -> None:
        """Copy committed WAL pages into the database file without waiting for readers."""
        self._conn().execute("PRAGMA wal_checkpoint(PASSIVE)")

    def close(self) -> None:
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()


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
    ) -> None:
        if checkpoint_every < 1:
            raise ConfigurationError("checkpoint_every must be a positive number of writes")
        super().__init__(SQLiteStore(path, busy_timeout=busy_timeout))
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
