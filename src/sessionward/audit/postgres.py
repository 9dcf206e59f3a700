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
    import psycopg  # noqa: F401 (the PostgreSQL extra: checked here, used by the runner)
    import psycopg_pool
    from psycopg import sql
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "sessionward's PostgreSQL audit log needs psycopg 3: pip install 'sessionward[postgres]'"
    ) from exc

from ..core.events import Event, EventKind
from ..errors import ConfigurationError, StoreUnavailable
from ..stores.pg_runner import PgLimits, PgRunner, PgTarget, Plan, query
from ..stores.pg_settings import check_schema
from .base import AuditEntry, check_limit


class AuditPlans:
    """The audit log's SQL as plans (see :mod:`sessionward.stores.pg_runner`).

    :class:`PostgresAuditLog` drives them with a ``PgRunner``; an asyncio log would drive the
    same plans with an ``AsyncPgRunner``.
    """

    def __init__(self, schema: str) -> None:
        self.schema = schema
        self.table = sql.Identifier(schema, "audit_events")

    def migrate(self) -> Plan[None]:
        yield query(
            sql.SQL("SELECT pg_advisory_xact_lock(hashtext(%s))"),
            ("sessionward-audit-migrate:" + self.schema,),
        )
        yield query(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)))
        yield query(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                " id bigserial PRIMARY KEY,"
                " at double precision NOT NULL,"
                " kind text NOT NULL,"
                " user_id text,"
                " handle text,"
                " event jsonb NOT NULL)"
            ).format(self.table)
        )
        yield query(
            sql.SQL(
                "CREATE INDEX IF NOT EXISTS audit_events_by_user ON {} (user_id, id) "
                "WHERE user_id IS NOT NULL"
            ).format(self.table)
        )
        yield query(
            sql.SQL(
                "CREATE INDEX IF NOT EXISTS audit_events_by_handle ON {} (handle, id) "
                "WHERE handle IS NOT NULL"
            ).format(self.table)
        )
        yield query(
            sql.SQL("CREATE INDEX IF NOT EXISTS audit_events_by_time ON {} (at)").format(self.table)
        )

    def append(self, event: Event) -> Plan[None]:
        text = json.dumps(event.as_dict(), separators=(",", ":"), default=str)
        yield query(
            sql.SQL(
                "INSERT INTO {} (at, kind, user_id, handle, event) VALUES (%s, %s, %s, %s, %s)"
            ).format(self.table),
            (event.at, event.kind.value, event.user_id, event.handle, text),
        )

    def query(
        self,
        *,
        user_id: str | None,
        handle: str | None,
        kinds: Collection[EventKind] | None,
        since: float | None,
        limit: int,
    ) -> Plan[list[AuditEntry]]:
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
        rows = yield query(
            sql.SQL("SELECT id, event FROM {} WHERE {} ORDER BY id DESC LIMIT %s").format(
                self.table, clause
            ),
            (*params, limit),
        )
        return _entries(rows)

    def tail(self, *, after: str | None, limit: int) -> Plan[list[AuditEntry]]:
        check_limit(limit)
        if after is None:
            rows = yield query(
                sql.SQL("SELECT id, event FROM {} ORDER BY id DESC LIMIT %s").format(self.table),
                (limit,),
            )
            return _entries(rows[::-1])
        try:
            cursor = int(after)
        except ValueError:
            raise ConfigurationError(f"not an audit cursor of this log: {after!r}") from None
        rows = yield query(
            sql.SQL("SELECT id, event FROM {} WHERE id > %s ORDER BY id LIMIT %s").format(
                self.table
            ),
            (cursor, limit),
        )
        return _entries(rows)

    def purge(self, before: float) -> Plan[int]:
        rows = yield query(
            sql.SQL(
                "WITH gone AS (DELETE FROM {} WHERE at < %s RETURNING 1) SELECT count(*) FROM gone"
            ).format(self.table),
            (before,),
        )
        return int(rows[0][0])

    def drop(self) -> Plan[None]:
        yield query(sql.SQL("DROP TABLE IF EXISTS {}").format(self.table))


def _entries(rows: list[tuple[Any, ...]]) -> list[AuditEntry]:
    return [AuditEntry(str(row[0]), Event.from_dict(row[1])) for row in rows]


def _unavailable(exc: Exception) -> Exception:
    return StoreUnavailable(f"PostgreSQL audit log unavailable: {exc}")


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
        self.plans = AuditPlans(check_schema(schema))
        self.schema = schema
        self.table = self.plans.table
        limits = PgLimits(1, max_size, connect_timeout, statement_timeout, pool_timeout)
        name = f"sessionward-audit-{schema}"
        self.runner = PgRunner(
            PgTarget(conninfo, schema, name, self.plans.migrate, _unavailable, limits)
        )
        self.pool = self.runner.pool
        try:
            self.pool.wait(timeout=pool_timeout + connect_timeout)
        except psycopg_pool.PoolTimeout as exc:
            self.pool.close()
            raise _unavailable(exc) from exc
        self.runner.ensure_schema()

    def __repr__(self) -> str:
        return f"PostgresAuditLog(schema={self.schema!r})"

    def append(self, event: Event) -> None:
        self.runner.drive(self.plans.append(event), atomic=False)

    def query(
        self,
        *,
        user_id: str | None = None,
        handle: str | None = None,
        kinds: Collection[EventKind] | None = None,
        since: float | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        plan = self.plans.query(
            user_id=user_id, handle=handle, kinds=kinds, since=since, limit=limit
        )
        return self.runner.drive(plan, atomic=False)

    def tail(self, *, after: str | None = None, limit: int = 100) -> list[AuditEntry]:
        return self.runner.drive(self.plans.tail(after=after, limit=limit), atomic=False)

    def purge(self, before: float) -> int:
        """Delete events older than ``before`` (retention); return how many."""
        return self.runner.drive(self.plans.purge(before), atomic=False)

    def drop(self) -> None:
        """Remove the audit table (tests and uninstalls)."""
        self.runner.drive(self.plans.drop(), atomic=False)

    def close(self) -> None:
        self.runner.close()
