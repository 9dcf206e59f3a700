"""Refresh tokens and the revocation list in PostgreSQL (psycopg 3), sync and async.

Tables ``sw_refresh_tokens`` and ``sw_token_revocations`` live in the given schema (the
sessions' schema is fine: the names do not clash). Each operation is a short plan of queries
run in one transaction; ``rotate`` is a compare-and-set (``UPDATE ... WHERE rotated_at IS NULL``:
under READ COMMITTED the loser of two concurrent rotations re-checks the row after the winner
commits and updates nothing). Waits are bounded as for the session store; failures raise
:class:`~sessionward.errors.StoreUnavailable`.
"""

from __future__ import annotations

from typing import Any, TypeVar

try:
    import psycopg
    import psycopg_pool  # noqa: F401 (the PostgreSQL extra: checked here, used by the runner)
    from psycopg import sql
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "the PostgreSQL token store needs psycopg 3: pip install 'sessionward[postgres,jwt]'"
    ) from exc

from ..calls import StoreCall
from ..errors import DuplicateKey, StoreUnavailable
from ..stores.pg_plans import sweep_batch
from ..stores.pg_runner import AsyncPgRunner, PgBackend, PgRunner, PgTarget, Plan, query
from ..stores.pg_settings import check_schema
from ..stores.sweeper import AsyncSweeper, Sweeper
from .refresh import RefreshRecord
from .store import Revocations, refresh_row

T = TypeVar("T")
_ALL = "*"
_REVOKE_KEEP = (
    "INSERT INTO {r} (session, revoked_at, until) VALUES (%s, %s, %s) "
    "ON CONFLICT (session) DO UPDATE SET until = GREATEST({r}.until, EXCLUDED.until)"
)
_REVOKE_REPLACE = (
    "INSERT INTO {r} (session, revoked_at, until) VALUES (%s, %s, %s) "
    "ON CONFLICT (session) DO UPDATE SET until = EXCLUDED.until, revoked_at = EXCLUDED.revoked_at"
)
_COLUMNS = "key, family, session, user_id, issued_at, expires_at, rotated_at, sealed"


class _Plans:
    def __init__(self, schema: str) -> None:
        self.schema = check_schema(schema)
        self.tokens = sql.Identifier(schema, "sw_refresh_tokens")
        self.revocations_table = sql.Identifier(schema, "sw_token_revocations")

    def _q(self, text: str, *params: Any) -> StoreCall:
        return query(sql.SQL(text).format(t=self.tokens, r=self.revocations_table), params)

    def migrate(self) -> Plan[None]:
        yield query(
            sql.SQL("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))"),
            (f"sessionward-tokens:{self.schema}",),
        )
        yield query(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)))
        yield self._q(
            "CREATE TABLE IF NOT EXISTS {t} (key text PRIMARY KEY, family text NOT NULL, "
            "session text NOT NULL, user_id text NOT NULL, "
            "issued_at double precision NOT NULL, expires_at double precision NOT NULL, "
            "rotated_at double precision, sealed text)"
        )
        for index, column in (("by_session", "session"), ("by_expiry", "expires_at")):
            yield query(
                sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(
                    sql.Identifier(f"sw_refresh_tokens_{index}"),
                    self.tokens,
                    sql.Identifier(column),
                )
            )
        yield self._q(
            "CREATE TABLE IF NOT EXISTS {r} (session text PRIMARY KEY, "
            "revoked_at double precision NOT NULL, until double precision NOT NULL)"
        )

    def drop(self) -> Plan[None]:
        yield query(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.schema)))

    def add(self, record: RefreshRecord) -> Plan[None]:
        yield self._q(
            f"INSERT INTO {{t}} ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",  # noqa: S608
            *refresh_row(record),
        )

    def get(self, key: str) -> Plan[RefreshRecord | None]:
        rows = yield self._q(f"SELECT {_COLUMNS} FROM {{t}} WHERE key = %s", key)  # noqa: S608
        return RefreshRecord(*rows[0]) if rows else None

    def rotate(self, key: str, successor: RefreshRecord, sealed: str, now: float) -> Plan[bool]:
        changed = yield self._q(
            "UPDATE {t} SET rotated_at = %s, sealed = %s WHERE key = %s AND rotated_at IS NULL",
            now,
            sealed,
            key,
        )
        if changed != 1:
            return False
        yield from self.add(successor)
        return True

    def _revoke(self, session: str, now: float, until: float, *, replace: bool) -> StoreCall:
        # A second, shorter revocation of one session never shortens the first; end_all's
        # "not before" row is replaced outright.
        return self._q(_REVOKE_REPLACE if replace else _REVOKE_KEEP, session, now, until)

    def end_session(self, session: str, now: float, until: float) -> Plan[int]:
        count = yield self._q("DELETE FROM {t} WHERE session = %s", session)
        yield self._revoke(session, now, until, replace=False)
        return int(count)

    def end_all(self, now: float, until: float) -> Plan[int]:
        count = yield self._q("DELETE FROM {t}")
        yield self._revoke(_ALL, now, until, replace=True)
        return int(count)

    def revocations(self, now: float) -> Plan[Revocations]:
        rows = yield self._q("SELECT session, revoked_at FROM {r} WHERE until > %s", now)
        sessions = frozenset(s for s, _ in rows if s != _ALL)
        return Revocations(sessions, next((at for s, at in rows if s == _ALL), None))

    def sweep(self, cutoff: float, batch: int) -> Plan[int | None]:
        limited = (
            "DELETE FROM {t} WHERE key IN (SELECT key FROM {t} WHERE expires_at <= %s "
            "ORDER BY expires_at LIMIT %s FOR UPDATE SKIP LOCKED)"
        )
        revocations = (
            "DELETE FROM {r} WHERE session IN (SELECT session FROM {r} WHERE until <= %s "
            "LIMIT %s FOR UPDATE SKIP LOCKED)"
        )
        return (
            yield from sweep_batch(
                self._q(limited, cutoff, batch),
                f"sessionward-sweep-tokens:{self.schema}",
                self._q(revocations, cutoff, batch),
            )
        )

    def purge_expired(self, now: float) -> Plan[int]:
        count = yield self._q("DELETE FROM {t} WHERE expires_at <= %s", now)
        yield self._q("DELETE FROM {r} WHERE until <= %s", now)
        return int(count)


def _failure(exc: Exception) -> Exception:
    if isinstance(exc, psycopg.errors.UniqueViolation):
        return DuplicateKey("refresh token key already exists")
    return StoreUnavailable(f"PostgreSQL unavailable: {exc}")


class _Postgres(PgBackend):
    """What both PostgreSQL token stores share: their plans and what a failure becomes."""

    pool_name = "sessionward-tokens-"

    plans: _Plans
    plans_type = _Plans
    failure = staticmethod(_failure)


class PostgresTokenStore(_Postgres):
    """A :class:`~sessionward.tokens.store.TokenStore` in PostgreSQL (sync, pooled)."""

    def _start(self, target: PgTarget, purge: dict[str, Any]) -> None:
        self.sweeper = Sweeper("refresh_tokens", self._sweep, **purge)
        self.runner = PgRunner(target)
        self.pool = self.runner.pool
        self.runner.ensure_schema()

    def _run(self, plan: Plan[T]) -> T:
        return self.runner.run(plan, atomic=True)

    def add(self, record: RefreshRecord) -> None:
        self.sweeper.poke(record.issued_at)
        self._run(self.plans.add(record))

    def get(self, key: str) -> RefreshRecord | None:
        return self._run(self.plans.get(key))

    def rotate(self, key: str, successor: RefreshRecord, *, sealed: str, now: float) -> bool:
        return self._run(self.plans.rotate(key, successor, sealed, now))

    def end_session(self, session: str, *, now: float, until: float) -> int:
        return self._run(self.plans.end_session(session, now, until))

    def end_all(self, *, now: float, until: float) -> int:
        return self._run(self.plans.end_all(now, until))

    def revocations(self, now: float) -> Revocations:
        return self._run(self.plans.revocations(now))

    def purge_expired(self, now: float) -> int:
        return self._run(self.plans.purge_expired(now))

    def _sweep(self, now: float, batch: int, holder: str, until: float) -> int | None:
        return self._run(self.plans.sweep(now - self.sweeper.grace, batch))

    def close(self) -> None:
        self.sweeper.wait()
        self.runner.close()


class AsyncPostgresTokenStore(_Postgres):
    """The asyncio twin of :class:`PostgresTokenStore`; the pool opens on first use."""

    def _start(self, target: PgTarget, purge: dict[str, Any]) -> None:
        self.sweeper = AsyncSweeper("refresh_tokens", self._sweep, **purge)
        self.runner = AsyncPgRunner(target)

    async def open(self) -> None:
        await self.runner.ensure_schema()

    async def _run(self, plan: Plan[T]) -> T:
        return await self.runner.run(plan, atomic=True)

    async def add(self, record: RefreshRecord) -> None:
        self.sweeper.poke(record.issued_at)
        await self._run(self.plans.add(record))

    async def get(self, key: str) -> RefreshRecord | None:
        return await self._run(self.plans.get(key))

    async def rotate(self, key: str, successor: RefreshRecord, *, sealed: str, now: float) -> bool:
        return await self._run(self.plans.rotate(key, successor, sealed, now))

    async def end_session(self, session: str, *, now: float, until: float) -> int:
        return await self._run(self.plans.end_session(session, now, until))

    async def end_all(self, *, now: float, until: float) -> int:
        return await self._run(self.plans.end_all(now, until))

    async def revocations(self, now: float) -> Revocations:
        return await self._run(self.plans.revocations(now))

    async def purge_expired(self, now: float) -> int:
        return await self._run(self.plans.purge_expired(now))

    async def _sweep(self, now: float, batch: int, holder: str, until: float) -> int | None:
        return await self._run(self.plans.sweep(now - self.sweeper.grace, batch))

    async def close(self) -> None:
        await self.sweeper.wait()
        await self.runner.close()
