"""The audit log in PostgreSQL: table ``<schema>.audit_events``, beside the session store's.

Indexed for a user's history and a session's history; ``id`` (a bigserial) orders events and is
the cursor of ``tail``. Every wait is bounded like the store's: past ``connect_timeout``,
``pool_timeout`` or ``statement_timeout`` a call raises
:class:`~sessionward.errors.StoreUnavailable`.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

try:
    import psycopg
    import psycopg_pool
    from psycopg import sql
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "sessionward's PostgreSQL audit log needs psycopg 3: pip install 'sessionward[postgres]'"
    ) from exc

from ..core.events import Event, EventKind
from ..errors import ConfigurationError, StoreUnavailable
from ..stores._pg_settings import Pool, call_deadline, connection_kwargs, open_pool, pooled
from .base import AuditEntry, check_limit


class PostgresAuditLog:
    """Audit events in PostgreSQL. ``schema`` as for :class:`PostgresStore` (created if missing)."""

    def __init__(
        self,
        conninfo: str,
        *,
        schema: str = "sessionward",
        max_size: int = 4,
        connect_timeout: float = 2.0,
        statement_timeout: float = 2.0,
        pool_timeout: float = 2.0,
    ) -> None:
        kwargs = connection_kwargs(
            schema,
            connect_timeout=connect_timeout,
            statement_timeout=statement_timeout,
            pool_timeout=pool_timeout,
            max_size=max_size,
        )
        self.schema = schema
        self.table = sql.Identifier(schema, "audit_events")
        self.deadline = call_deadline(statement_timeout)
        self.pool: Pool = open_pool(
            conninfo,
            kwargs,
            min_size=1,
            max_size=max_size,
            timeout=pool_timeout,
            name=f"sessionward-audit-{schema}",
        )
        try:
            self.pool.open(wait=True, timeout=pool_timeout + connect_timeout)
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            self.pool.close()
            raise StoreUnavailable(f"PostgreSQL audit log unavailable: {exc}") from exc
        self._migrate()

    def __repr__(self) -> str:
        return f"PostgresAuditLog(schema={self.schema!r})"

    def _run(self, query: sql.Composed, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            with pooled(self.pool, self.deadline) as conn, conn.cursor() as cur:
                cur.execute(query, params)
                return cur.fetchall() if cur.description is not None else []
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            raise StoreUnavailable(f"PostgreSQL audit log unavailable: {exc}") from exc

    def _migrate(self) -> None:
        lock = sql.Literal("sessionward-audit-migrate:" + self.schema)
        statements = [
            sql.SQL("SELECT pg_advisory_lock(hashtext({}))").format(lock),
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)),
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                " id bigserial PRIMARY KEY,"
                " at double precision NOT NULL,"
                " kind text NOT NULL,"
                " user_id text,"
                " handle text,"
                " event jsonb NOT NULL)"
            ).format(self.table),
            sql.SQL(
                "CREATE INDEX IF NOT EXISTS audit_events_by_user ON {} (user_id, id) "
                "WHERE user_id IS NOT NULL"
            ).format(self.table),
            sql.SQL(
                "CREATE INDEX IF NOT EXISTS audit_events_by_handle ON {} (handle, id) "
                "WHERE handle IS NOT NULL"
            ).format(self.table),
            sql.SQL("CREATE INDEX IF NOT EXISTS audit_events_by_time ON {} (at)").format(
                self.table
            ),
            sql.SQL("SELECT pg_advisory_unlock(hashtext({}))").format(lock),
        ]
        try:
            with pooled(self.pool, self.deadline) as conn:
                for statement in statements:
                    conn.execute(statement)
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            raise StoreUnavailable(f"PostgreSQL audit log unavailable: {exc}") from exc

    def append(self, event: Event) -> None:
        text = json.dumps(event.as_dict(), separators=(",", ":"), default=str)
        self._run(
            sql.SQL(
                "INSERT INTO {} (at, kind, user_id, handle, event) VALUES (%s, %s, %s, %s, %s)"
            ).format(self.table),
            (event.at, event.kind.value, event.user_id, event.handle, text),
        )

    @staticmethod
    def _entries(rows: list[tuple[Any, ...]]) -> list[AuditEntry]:
        return [AuditEntry(str(row[0]), Event.from_dict(row[1])) for row in rows]

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
        where: list[sql.Composable] = []
        params: list[Any] = []
        if user_id is not None:
            where.append(sql.SQL("user_id = %s"))
            params.append(user_id)
        if handle is not None:
            where.append(sql.SQL("handle = %s"))
            params.append(handle)
        if kinds is not None:
            where.append(sql.SQL("kind = ANY(%s)"))
            params.append([EventKind(k).value for k in kinds])
        if since is not None:
            where.append(sql.SQL("at >= %s"))
            params.append(float(since))
        clause = sql.SQL(" AND ").join(where) if where else sql.SQL("TRUE")
        rows = self._run(
            sql.SQL("SELECT id, event FROM {} WHERE {} ORDER BY id DESC LIMIT %s").format(
                self.table, clause
            ),
            (*params, limit),
        )
        return self._entries(rows)

    def tail(self, *, after: str | None = None, limit: int = 100) -> list[AuditEntry]:
        check_limit(limit)
        if after is None:
            rows = self._run(
                sql.SQL("SELECT id, event FROM {} ORDER BY id DESC LIMIT %s").format(self.table),
                (limit,),
            )
            return self._entries(rows[::-1])
        try:
            cursor = int(after)
        except ValueError:
            raise ConfigurationError(f"not an audit cursor of this log: {after!r}") from None
        rows = self._run(
            sql.SQL("SELECT id, event FROM {} WHERE id > %s ORDER BY id LIMIT %s").format(
                self.table
            ),
            (cursor, limit),
        )
        return self._entries(rows)

    def purge(self, before: float) -> int:
        """Delete events older than ``before`` (retention); return how many."""
        rows = self._run(
            sql.SQL(
                "WITH gone AS (DELETE FROM {} WHERE at < %s RETURNING 1) SELECT count(*) FROM gone"
            ).format(self.table),
            (before,),
        )
        return int(rows[0][0])

    def drop(self) -> None:
        """Remove the audit table (tests and uninstalls)."""
        self._run(sql.SQL("DROP TABLE IF EXISTS {}").format(self.table))

    def close(self) -> None:
        self.pool.close()
