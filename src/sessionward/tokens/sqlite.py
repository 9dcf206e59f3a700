"""Refresh tokens and the revocation list in SQLite (may share the sessions' database file).

The same plumbing as :mod:`sessionward.stores.sqlite` (``SQLiteDatabase``): WAL, one connection
per thread, every read-modify-write in ``BEGIN IMMEDIATE`` (so a rotation is a true
compare-and-set across processes), a busy timeout, STRICT tables and a schema version of its own.
"""

from __future__ import annotations

import os
import sqlite3
from typing import TypeVar, Unpack

from ..errors import DuplicateKey
from ..stores.sqlite_db import SQLiteBackend, SQLiteOptions, take_lease
from .refresh import RefreshRecord
from .store import Revocations, ThreadedAsyncTokenStore, refresh_row

T = TypeVar("T")
SCHEMA_VERSION = 1
_ALL = "*"
_COLUMNS = "key, family, session, user_id, issued_at, expires_at, rotated_at, sealed"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessionward_token_schema (version INTEGER NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS sessionward_refresh_tokens (
    key TEXT PRIMARY KEY,
    family TEXT NOT NULL,
    session TEXT NOT NULL,
    user_id TEXT NOT NULL,
    issued_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    rotated_at REAL,
    sealed TEXT
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessionward_refresh_by_session
    ON sessionward_refresh_tokens (session);
CREATE INDEX IF NOT EXISTS sessionward_refresh_by_expiry
    ON sessionward_refresh_tokens (expires_at);
CREATE TABLE IF NOT EXISTS sessionward_revocations (
    session TEXT PRIMARY KEY,
    revoked_at REAL NOT NULL,
    until REAL NOT NULL
) STRICT, WITHOUT ROWID;
"""


class SQLiteTokenStore(SQLiteBackend):
    """A :class:`~sessionward.tokens.store.TokenStore` in one SQLite file (mode 0600)."""

    sweep_name = "refresh_tokens"
    schema = _SCHEMA
    version_table = "sessionward_token_schema"
    version = SCHEMA_VERSION

    # -- the TokenStore protocol -----------------------------------------------------------

    def add(self, record: RefreshRecord) -> None:
        self.sweeper.poke(record.issued_at)

        def add(conn: sqlite3.Connection) -> None:
            conn.execute(
                f"INSERT INTO sessionward_refresh_tokens ({_COLUMNS}) "  # noqa: S608 (constant)
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                refresh_row(record),
            )

        try:
            self.db.run(add, write=True)
        except sqlite3.IntegrityError as exc:
            raise DuplicateKey("refresh token key already exists") from exc

    def get(self, key: str) -> RefreshRecord | None:
        def get(conn: sqlite3.Connection) -> RefreshRecord | None:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM sessionward_refresh_tokens WHERE key = ?",  # noqa: S608
                (key,),
            ).fetchone()
            return None if row is None else RefreshRecord(*row)

        return self.db.run(get, write=False)

    def rotate(self, key: str, successor: RefreshRecord, *, sealed: str, now: float) -> bool:
        def rotate(conn: sqlite3.Connection) -> bool:
            changed = conn.execute(
                "UPDATE sessionward_refresh_tokens SET rotated_at = ?, sealed = ? "
                "WHERE key = ? AND rotated_at IS NULL",
                (now, sealed, key),
            ).rowcount
            if changed != 1:
                return False
            conn.execute(
                f"INSERT INTO sessionward_refresh_tokens ({_COLUMNS}) "  # noqa: S608 (constant)
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                refresh_row(successor),
            )
            return True

        return self.db.run(rotate, write=True)

    def end_session(self, session: str, *, now: float, until: float) -> int:
        def end(conn: sqlite3.Connection) -> int:
            count = conn.execute(
                "DELETE FROM sessionward_refresh_tokens WHERE session = ?", (session,)
            ).rowcount
            conn.execute(
                "INSERT INTO sessionward_revocations (session, revoked_at, until) "
                "VALUES (?, ?, ?) ON CONFLICT (session) DO UPDATE SET "
                "until = max(until, excluded.until)",
                (session, now, until),
            )
            return int(count)

        return self.db.run(end, write=True)

    def end_all(self, *, now: float, until: float) -> int:
        def end(conn: sqlite3.Connection) -> int:
            count = conn.execute("DELETE FROM sessionward_refresh_tokens").rowcount
            conn.execute(
                "INSERT INTO sessionward_revocations (session, revoked_at, until) "
                "VALUES (?, ?, ?) ON CONFLICT (session) DO UPDATE SET "
                "revoked_at = excluded.revoked_at, until = excluded.until",
                (_ALL, now, until),
            )
            return int(count)

        return self.db.run(end, write=True)

    def revocations(self, now: float) -> Revocations:
        def read(conn: sqlite3.Connection) -> Revocations:
            rows = conn.execute(
                "SELECT session, revoked_at FROM sessionward_revocations WHERE until > ?", (now,)
            ).fetchall()
            sessions = frozenset(s for s, _ in rows if s != _ALL)
            not_before = next((at for s, at in rows if s == _ALL), None)
            return Revocations(sessions, not_before)

        return self.db.run(read, write=False)

    def purge_expired(self, now: float) -> int:
        def purge(conn: sqlite3.Connection) -> int:
            count = conn.execute(
                "DELETE FROM sessionward_refresh_tokens WHERE expires_at <= ?", (now,)
            ).rowcount
            conn.execute("DELETE FROM sessionward_revocations WHERE until <= ?", (now,))
            return int(count)

        return self.db.run(purge, write=True)

    def _sweep(self, now: float, batch: int, holder: str, until: float) -> int | None:
        def sweep(conn: sqlite3.Connection) -> int | None:
            if not take_lease(conn, "refresh_tokens", holder, now, until):
                return None
            cutoff = now - self.sweeper.grace
            count = conn.execute(
                "DELETE FROM sessionward_refresh_tokens WHERE key IN (SELECT key FROM "
                "sessionward_refresh_tokens WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)",
                (cutoff, batch),
            ).rowcount
            gone = conn.execute(
                "DELETE FROM sessionward_revocations WHERE session IN (SELECT session FROM "
                "sessionward_revocations WHERE until <= ? LIMIT ?)",
                (cutoff, batch),
            ).rowcount
            return max(int(count), int(gone))

        return self.db.run(sweep, write=True)

    def close(self) -> None:
        self.sweeper.wait()
        self.db.close()


class AsyncSQLiteTokenStore(ThreadedAsyncTokenStore):
    """The SQLite token store for async apps: each call runs in a worker thread."""

    def __init__(self, path: str | os.PathLike[str], **options: Unpack[SQLiteOptions]) -> None:
        """``options`` as for :class:`SQLiteTokenStore` (``busy_timeout``, ``purge_*``)."""
        super().__init__(SQLiteTokenStore(path, **options))
