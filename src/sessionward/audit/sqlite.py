"""The audit log in SQLite: one table, usually in the same file as the sessions.

Rows are appended by sinks from many threads (and possibly several processes); the shared
``SQLiteDatabase`` plumbing (WAL, a connection per thread, a writer queue, a busy timeout) lets
writers queue instead of failing. The table is STRICT and indexed for the two
questions operators ask: a user's history and a session's history.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection
from typing import Any

from ..core.events import Event, EventKind
from ..errors import ConfigurationError
from ..stores.sqlite_db import SQLiteDatabase
from .base import AuditEntry, check_limit

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessionward_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    user_id TEXT,
    handle TEXT,
    event TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS sessionward_audit_by_user ON sessionward_audit (user_id, id)
    WHERE user_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS sessionward_audit_by_handle ON sessionward_audit (handle, id)
    WHERE handle IS NOT NULL;
CREATE INDEX IF NOT EXISTS sessionward_audit_by_time ON sessionward_audit (at);
"""


class SQLiteAuditLog:
    """Audit events in a SQLite file (created with mode 0600 if missing)."""

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 5.0) -> None:
        self.db = SQLiteDatabase(path, busy_timeout=busy_timeout, owner="SQLiteAuditLog")
        self.path = self.db.path
        self.db.migrate(_SCHEMA, version_table="sessionward_audit_schema", version=SCHEMA_VERSION)

    def __repr__(self) -> str:
        return f"SQLiteAuditLog({str(self.path)!r})"

    def _execute(
        self, sql: str, params: tuple[Any, ...] = (), *, write: bool = False
    ) -> list[tuple[Any, ...]]:
        return self.db.run(lambda conn: conn.execute(sql, params).fetchall(), write=write)

    def append(self, event: Event) -> None:
        text = json.dumps(event.as_dict(), separators=(",", ":"), default=str)
        self._execute(
            "INSERT INTO sessionward_audit (at, kind, user_id, handle, event) "
            "VALUES (?, ?, ?, ?, ?)",
            (event.at, event.kind.value, event.user_id, event.handle, text),
            write=True,
        )

    @staticmethod
    def _entries(rows: list[tuple[Any, ...]]) -> list[AuditEntry]:
        return [AuditEntry(str(row[0]), Event.from_dict(json.loads(row[1]))) for row in rows]

    def query(
        self,
        *,
        user_id: str | None = None,
        handle: str | None = None,
        kinds: Collection[EventKind] | None = None,
        since: float | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        check_limit(limit)
        where: list[str] = []
        params: list[Any] = []
        if user_id is not None:
            where.append("user_id = ?")
            params.append(user_id)
        if handle is not None:
            where.append("handle = ?")
            params.append(handle)
        if kinds is not None:
            if not kinds:
                return []
            where.append(f"kind IN ({', '.join('?' for _ in kinds)})")
            params.extend(EventKind(k).value for k in kinds)
        if since is not None:
            where.append("at >= ?")
            params.append(float(since))
        clause = " AND ".join(where) or "1 = 1"
        rows = self._execute(
            f"SELECT id, event FROM sessionward_audit WHERE {clause} "  # noqa: S608 (placeholders)
            "ORDER BY id DESC LIMIT ?",
            (*params, limit),
        )
        return self._entries(rows)

    def tail(self, *, after: str | None = None, limit: int = 100) -> list[AuditEntry]:
        check_limit(limit)
        if after is None:
            rows = self._execute(
                "SELECT id, event FROM sessionward_audit ORDER BY id DESC LIMIT ?", (limit,)
            )
            return self._entries(rows[::-1])
        try:
            cursor = int(after)
        except ValueError:
            raise ConfigurationError(f"not an audit cursor of this log: {after!r}") from None
        rows = self._execute(
            "SELECT id, event FROM sessionward_audit WHERE id > ? ORDER BY id LIMIT ?",
            (cursor, limit),
        )
        return self._entries(rows)

    def purge(self, before: float) -> int:
        """Delete events older than ``before`` (retention); return how many."""
        return self.db.run(
            lambda conn: (
                conn.execute("DELETE FROM sessionward_audit WHERE at < ?", (before,)).rowcount
            ),
            write=True,
        )

    def close(self) -> None:
        self.db.close()
