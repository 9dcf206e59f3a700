"""Guard and limiter counters shared through the PostgreSQL store's database.

One table, ``guard_state``, in the store's schema: a row per count or mark, each with the time
it lapses. Reads ignore lapsed rows; they are swept lazily, a small batch at a time, when a mark
is set and every few dozen hits, so the table stays as small as one window's traffic and no
sweep holds a lock for long. The queries are plans run by the store's own driver, on its pool
and under its time-outs (a failing call is :class:`~sessionward.errors.StoreUnavailable`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from psycopg import sql

from ..calls import StoreCall
from ..core.guessing import MAX_MEMBERS
from ..stores.pg_runner import Plan, query
from ..stores.postgres import AsyncPostgresStore, PostgresStore

_SWEEP_BATCH = 100
_SWEEP_EVERY = 64  # hits between two lazy sweeps (per process)


class GuardPlans:
    """The counters' SQL over one schema, for the sync and async drivers alike."""

    def __init__(self, schema: str) -> None:
        self.schema = schema
        self.table = sql.Identifier(schema, "guard_state")

    def _q(self, template: str, *params: Any) -> StoreCall:
        return query(sql.SQL(template).format(table=self.table), params)

    def migrate(self) -> Plan[None]:
        yield query(
            sql.SQL("SELECT pg_advisory_xact_lock(hashtextextended({}, 0))").format(
                sql.Literal("sessionward-guard:" + self.schema)
            )
        )
        yield self._q(
            """CREATE TABLE IF NOT EXISTS {table} (
                key text PRIMARY KEY,
                hits integer NOT NULL,
                members text[] NOT NULL,
                expires_at double precision NOT NULL
            )"""
        )
        yield query(
            sql.SQL("CREATE INDEX IF NOT EXISTS guard_state_by_expiry ON {} (expires_at)").format(
                self.table
            )
        )

    def hit(self, key: str, member: str | None, window: float, now: float) -> Plan[int]:
        # One statement: a lapsed count starts again, a repeated member counts once.
        fresh = [] if member is None else [member]
        rows = yield self._q(
            """INSERT INTO {table} AS t (key, hits, members, expires_at)
            VALUES (%s, 1, %s::text[], %s)
            ON CONFLICT (key) DO UPDATE SET
              hits = CASE
                WHEN t.expires_at <= %s THEN 1
                WHEN %s::text IS NULL THEN t.hits + 1
                WHEN %s::text = ANY(t.members) OR cardinality(t.members) >= %s THEN t.hits
                ELSE t.hits + 1 END,
              members = CASE
                WHEN t.expires_at <= %s THEN EXCLUDED.members
                WHEN %s::text IS NULL OR %s::text = ANY(t.members)
                  OR cardinality(t.members) >= %s THEN t.members
                ELSE t.members || %s::text END,
              expires_at = CASE
                WHEN t.expires_at <= %s THEN EXCLUDED.expires_at ELSE t.expires_at END
            RETURNING hits""",
            key,
            fresh,
            now + window,
            now,
            member,
            member,
            MAX_MEMBERS,
            now,
            member,
            member,
            MAX_MEMBERS,
            member,
            now,
        )
        return int(rows[0][0])

    def mark(self, key: str, until: float, now: float) -> Plan[None]:
        yield self._q(
            """INSERT INTO {table} (key, hits, members, expires_at) VALUES (%s, 0, '{{}}', %s)
            ON CONFLICT (key) DO UPDATE SET hits = 0, members = '{{}}',
              expires_at = EXCLUDED.expires_at""",
            key,
            until,
        )

    def marks(self, keys: Sequence[str], now: float) -> Plan[list[float | None]]:
        rows = yield self._q(
            "SELECT key, expires_at FROM {table} WHERE key = ANY(%s) AND expires_at > %s",
            list(keys),
            now,
        )
        found = {row[0]: float(row[1]) for row in rows}
        return [found.get(key) for key in keys]

    def clear(self, keys: Sequence[str]) -> Plan[None]:
        yield self._q("DELETE FROM {table} WHERE key = ANY(%s)", list(keys))

    def sweep(self, now: float) -> Plan[int]:
        count: int = yield self._q(
            """DELETE FROM {table} WHERE key IN (
                SELECT key FROM {table} WHERE expires_at <= %s LIMIT %s
                FOR UPDATE SKIP LOCKED)""",
            now,
            _SWEEP_BATCH,
        )
        return count


def _mark_key(key: str) -> str:
    return "m:" + key


def _count_key(key: str) -> str:
    return "c:" + key


class _Common:
    def __init__(self, store: Any) -> None:
        self.store = store
        self.plans = GuardPlans(store.plans.schema)
        self._ready = False
        self._hits = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(schema={self.plans.schema!r})"

    def _sweep_due(self) -> bool:
        with self._lock:
            self._hits += 1
            return self._hits % _SWEEP_EVERY == 0


class PostgresCounters(_Common):
    """:class:`~sessionward.core.guessing.Counters` in a :class:`PostgresStore`'s schema."""

    store: PostgresStore

    def _run(self, plan: Plan[Any], *, atomic: bool = False) -> Any:
        if not self._ready:
            self.store._run(self.plans.migrate(), atomic=True)
            self._ready = True
        return self.store._run(plan, atomic=atomic)

    def hit(self, key: str, member: str | None, window: float, now: float) -> int:
        hits: int = self._run(self.plans.hit(_count_key(key), member, window, now))
        if self._sweep_due():
            self._run(self.plans.sweep(now))
        return hits

    def mark(self, key: str, until: float, now: float) -> None:
        self._run(self.plans.mark(_mark_key(key), until, now))
        self._run(self.plans.sweep(now))

    def marks(self, keys: Sequence[str], now: float) -> list[float | None]:
        found: list[float | None] = self._run(self.plans.marks([_mark_key(k) for k in keys], now))
        return found

    def clear(self, keys: Sequence[str]) -> None:
        both = [_count_key(k) for k in keys] + [_mark_key(k) for k in keys]
        self._run(self.plans.clear(both))

    def sweep(self, now: float) -> int:
        """Delete one batch of lapsed rows (done lazily; operators may call it too)."""
        count: int = self._run(self.plans.sweep(now))
        return count


class AsyncPostgresCounters(_Common):
    """The async twin of :class:`PostgresCounters`."""

    store: AsyncPostgresStore

    async def _run(self, plan: Plan[Any], *, atomic: bool = False) -> Any:
        if not self._ready:
            await self.store._run(self.plans.migrate(), atomic=True)
            self._ready = True
        return await self.store._run(plan, atomic=atomic)

    async def hit(self, key: str, member: str | None, window: float, now: float) -> int:
        hits: int = await self._run(self.plans.hit(_count_key(key), member, window, now))
        if self._sweep_due():
            await self._run(self.plans.sweep(now))
        return hits

    async def mark(self, key: str, until: float, now: float) -> None:
        await self._run(self.plans.mark(_mark_key(key), until, now))
        await self._run(self.plans.sweep(now))

    async def marks(self, keys: Sequence[str], now: float) -> list[float | None]:
        found: list[float | None] = await self._run(
            self.plans.marks([_mark_key(k) for k in keys], now)
        )
        return found

    async def clear(self, keys: Sequence[str]) -> None:
        both = [_count_key(k) for k in keys] + [_mark_key(k) for k in keys]
        await self._run(self.plans.clear(both))

    async def sweep(self, now: float) -> int:
        count: int = await self._run(self.plans.sweep(now))
        return count


def shared_postgres_counters(store: Any, *, asynchronous: bool) -> Any:
    return AsyncPostgresCounters(store) if asynchronous else PostgresCounters(store)
