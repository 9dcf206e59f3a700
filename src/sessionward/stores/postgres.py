"""PostgreSQL stores: :class:`PostgresStore` and :class:`AsyncPostgresStore` (psycopg 3).

Both keep a connection pool, create or migrate their schema on start (under an advisory lock,
so several app processes may start together), and run the operations of
:mod:`sessionward.stores.pg_plans`. Every wait is bounded: ``connect_timeout`` to open a
connection, ``pool_timeout`` to get one from the pool, ``statement_timeout`` for the server to
answer, and client-side ``statement_timeout`` + 0.5 s for the whole call even when the server
or the network stalls (see :mod:`sessionward.stores.pg_settings`). Past any of them the call
raises :class:`~sessionward.errors.StoreUnavailable` (a 503); the pool reconnects on its own
within a fraction of a second when the server is back.
"""

from __future__ import annotations

import contextlib
from typing import Any, TypeVar

try:
    import psycopg
    import psycopg_pool  # noqa: F401 (the PostgreSQL extra: checked here, used by the runner)
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "sessionward's PostgreSQL store needs psycopg 3: pip install 'sessionward[postgres]'"
    ) from exc

from ..calls import StoreCall
from ..core.records import SessionRecord
from ..errors import DuplicateKey, SessionDataError, StoreUnavailable
from .base import RecordUpdate, SessionLimit
from .pg_batch import Coalescer
from .pg_plans import Plans, record_of
from .pg_runner import AsyncPgRunner, PgBackend, PgRunner, PgTarget, Plan
from .sweeper import AsyncSweeper, Sweeper

T = TypeVar("T")


def _unavailable(exc: Exception) -> Exception:
    if isinstance(exc, psycopg.errors.UniqueViolation):
        return DuplicateKey("session key or handle already exists")
    if isinstance(exc, psycopg.DataError):
        return SessionDataError(f"PostgreSQL cannot store this session data: {exc}")
    return StoreUnavailable(f"PostgreSQL unavailable: {exc}")


class _Postgres(PgBackend):
    """What both PostgreSQL stores share: their plans and what a failure becomes."""

    pool_name = "sessionward-"

    plans: Plans
    plans_type = Plans
    failure = staticmethod(_unavailable)


class PostgresStore(_Postgres):
    """Sessions in PostgreSQL for synchronous apps.

    ``conninfo`` is a libpq URL or DSN. ``schema`` holds the store's tables; give each app (or
    test run) its own. The schema is created or migrated here, at construction (or, if the
    server is unreachable then, on first use).
    """

    def _start(self, target: PgTarget, purge: dict[str, Any]) -> None:
        self.sweeper = Sweeper("sessions", self._sweep, **purge)
        self.runner = PgRunner(target)
        self.pool = self.runner.pool
        # Not reachable yet? Start anyway (requests get 503s) and migrate on first use.
        with contextlib.suppress(StoreUnavailable):
            self.runner.ensure_schema()

    def _drive(self, plan: Plan[T], *, atomic: bool) -> T:
        return self.runner.drive(plan, atomic=atomic)

    def _run(self, plan: Plan[T], *, atomic: bool = False) -> T:
        return self.runner.run(plan, atomic=atomic)

    def create(
        self,
        record: SessionRecord,
        *,
        now: float,
        replaces: str | None = None,
        limit: SessionLimit | None = None,
    ) -> list[SessionRecord]:
        self.sweeper.poke(now)
        return self._run(self.plans.create(record, now, replaces, limit), atomic=True)

    def get(self, key: str) -> SessionRecord | None:
        return self._run(self.plans.get("key", key))

    def get_by_handle(self, handle: str) -> SessionRecord | None:
        return self._run(self.plans.get("handle", handle))

    def update(self, key: str, change: RecordUpdate) -> SessionRecord | None:
        return self._run(self.plans.update(key, change))

    def delete(self, key: str) -> SessionRecord | None:
        return self._run(self.plans.delete(key))

    def list_by_user(self, user_id: str) -> list[SessionRecord]:
        return self._run(self.plans.list_by_user(user_id))

    def list_all(self, *, limit: int = 1000) -> list[SessionRecord]:
        return self._run(self.plans.list_all(limit))

    def delete_by_user(self, user_id: str, *, keep: str | None = None) -> list[SessionRecord]:
        return self._run(self.plans.delete_by_user(user_id, keep))

    def delete_all(self) -> int:
        return self._run(self.plans.delete_all())

    def purge_expired(self, now: float) -> int:
        return self._run(self.plans.purge_expired(now))

    def renew(
        self, key: str, new_key: str, stub: SessionRecord, *, handle: str
    ) -> SessionRecord | None:
        try:
            return self._run(self.plans.renew(key, new_key, stub, handle), atomic=True)
        except DuplicateKey:  # the new key or the stub's handle is taken: change nothing
            return None

    def _sweep(self, now: float, batch: int, holder: str, until: float) -> int | None:
        return self._run(self.plans.sweep(now - self.sweeper.grace, batch), atomic=True)

    def close(self) -> None:
        self.sweeper.wait()
        self.runner.close()


class AsyncPostgresStore(_Postgres):
    """Sessions in PostgreSQL for async apps; see :class:`PostgresStore`.

    The pool opens and the schema is migrated on first use (or ``await store.open()`` at
    application start-up), inside the running event loop.
    """

    def _start(self, target: PgTarget, purge: dict[str, Any]) -> None:
        self.sweeper = AsyncSweeper("sessions", self._sweep, **purge)
        self.runner = AsyncPgRunner(target)
        # Lookups and updates of concurrent requests go in batches (see pg_batch).
        self._gets: Coalescer[str, SessionRecord | None] = Coalescer(self._get_batch)
        self._updates: Coalescer[tuple[str, StoreCall], SessionRecord | None] = Coalescer(
            self._update_batch
        )

    async def _get_batch(self, keys: list[str]) -> list[SessionRecord | Exception | None]:
        if len(keys) == 1:
            return [await self._run(self.plans.get("key", keys[0]))]
        rows = await self._run(self.plans.get_many(keys))
        # Decoded once per caller: no two requests share a record's mutable data.
        return [None if key not in rows else record_of(rows[key]) for key in keys]

    async def _update_batch(
        self, calls: list[tuple[str, StoreCall]]
    ) -> list[SessionRecord | Exception | None]:
        if len(calls) > 1:
            try:
                return list(await self._run(self.plans.update_many(calls)))
            except (SessionDataError, DuplicateKey):
                pass  # the server refused one of them and committed none: apply each alone
        results: list[SessionRecord | Exception | None] = []
        for _, call in calls:
            try:
                results.append(await self._run(self.plans.update_one(call)))
            except (SessionDataError, DuplicateKey) as exc:
                results.append(exc)
        return results

    async def open(self) -> None:
        """Open the pool and create or migrate the schema (idempotent)."""
        await self.runner.ensure_schema()

    async def _run(self, plan: Plan[T], *, atomic: bool = False) -> T:
        return await self.runner.run(plan, atomic=atomic)

    async def create(
        self,
        record: SessionRecord,
        *,
        now: float,
        replaces: str | None = None,
        limit: SessionLimit | None = None,
    ) -> list[SessionRecord]:
        self.sweeper.poke(now)
        return await self._run(self.plans.create(record, now, replaces, limit), atomic=True)

    async def get(self, key: str) -> SessionRecord | None:
        return await self._gets(key)

    async def get_by_handle(self, handle: str) -> SessionRecord | None:
        return await self._run(self.plans.get("handle", handle))

    async def update(self, key: str, change: RecordUpdate) -> SessionRecord | None:
        return await self._updates((key, self.plans.update_call(key, change)))

    async def delete(self, key: str) -> SessionRecord | None:
        return await self._run(self.plans.delete(key))

    async def list_by_user(self, user_id: str) -> list[SessionRecord]:
        return await self._run(self.plans.list_by_user(user_id))

    async def list_all(self, *, limit: int = 1000) -> list[SessionRecord]:
        return await self._run(self.plans.list_all(limit))

    async def delete_by_user(self, user_id: str, *, keep: str | None = None) -> list[SessionRecord]:
        return await self._run(self.plans.delete_by_user(user_id, keep))

    async def delete_all(self) -> int:
        return await self._run(self.plans.delete_all())

    async def purge_expired(self, now: float) -> int:
        return await self._run(self.plans.purge_expired(now))

    async def renew(
        self, key: str, new_key: str, stub: SessionRecord, *, handle: str
    ) -> SessionRecord | None:
        try:
            return await self._run(self.plans.renew(key, new_key, stub, handle), atomic=True)
        except DuplicateKey:
            return None

    async def _sweep(self, now: float, batch: int, holder: str, until: float) -> int | None:
        return await self._run(self.plans.sweep(now - self.sweeper.grace, batch), atomic=True)

    async def close(self) -> None:
        await self.sweeper.wait()
        await self.runner.close()
