"""Running PostgreSQL plans: the pool set-up and the executors every PostgreSQL backend shares.

A *plan* is a generator that yields :class:`~sessionward.calls.StoreCall` values
(``StoreCall("execute", (statement, params))``, made by :func:`query`) and receives each result:
the rows of a statement that returns rows, else the row count. The session store, the refresh-
token store, the audit log and the guard's counters all write their SQL as plans;
:class:`PgRunner` and :class:`AsyncPgRunner` are the only code that opens a pool, migrates a
schema and performs the calls, with the same drive loop (:func:`sessionward.ops.drive` /
``drive_async``) the session flows use. Every wait is bounded by :mod:`.pg_settings`; a driver
or pool error becomes the backend's own exception (``failure``), usually
:class:`~sessionward.errors.StoreUnavailable`.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar

import psycopg
import psycopg_pool
from psycopg import sql

from ..calls import StoreCall, drive, drive_async
from .pg_settings import (
    AsyncPool,
    Pool,
    async_pooled,
    call_deadline,
    connection_kwargs,
    open_async_pool,
    open_pool,
    pooled,
)
from .sweeper import DEFAULT_BATCH, DEFAULT_INTERVAL, GRACE

T = TypeVar("T")
Plan = Generator[StoreCall, Any, T]
Statement = sql.SQL | sql.Composed | bytes


def query(text: Statement, params: Sequence[Any] = ()) -> StoreCall:
    """The call that runs one SQL statement: what a plan yields."""
    return StoreCall("execute", (text, tuple(params)))


def transaction_of(calls: Sequence[StoreCall]) -> StoreCall:
    """The call that runs ``calls`` (each made by :func:`query`) in one transaction, sent in
    one round trip (psycopg's pipeline mode); its result is the list of their results. If one
    fails, none of them is committed and the error is raised."""
    return StoreCall("transaction", tuple(call.args for call in calls))


@dataclass(frozen=True, slots=True)
class PgLimits:
    """The pool's size and every wait's bound (see :mod:`.pg_settings`)."""

    min_size: int = 1
    max_size: int = 10
    connect_timeout: float = 2.0
    statement_timeout: float = 2.0
    pool_timeout: float = 2.0


@dataclass(frozen=True, slots=True)
class PgTarget:
    """Where a backend's plans run, how it migrates, and what its failures become."""

    conninfo: str
    schema: str
    name: str
    migrate: Callable[[], Plan[None]]
    failure: Callable[[Exception], Exception]
    limits: PgLimits = PgLimits()

    def pool_arguments(self) -> dict[str, Any]:
        limits = self.limits
        kwargs = connection_kwargs(
            self.schema,
            connect_timeout=limits.connect_timeout,
            statement_timeout=limits.statement_timeout,
            pool_timeout=limits.pool_timeout,
            max_size=limits.max_size,
        )
        return {
            "conninfo": self.conninfo,
            "kwargs": kwargs,
            "min_size": min(limits.min_size, limits.max_size),
            "max_size": limits.max_size,
            "timeout": limits.pool_timeout,
            "name": self.name,
        }


class Migrating(Protocol):
    schema: str

    def __init__(self, schema: str) -> None: ...

    def migrate(self) -> Plan[None]: ...


class PgBackend:
    """The constructor of the PostgreSQL backends that purge on their own (sessions, tokens).

    A subclass names its pool (``pool_name`` + schema), its plans (``plans_type``, made from the
    schema) and what a driver error becomes (``failure``); ``_start`` builds its runner and
    sweeper.
    """

    pool_name: ClassVar[str]
    plans_type: ClassVar[type[Migrating]]

    def __init__(
        self,
        conninfo: str,
        *,
        schema: str = "sessionward",
        min_size: int = 1,
        max_size: int = 10,
        connect_timeout: float = 2.0,
        statement_timeout: float = 2.0,
        pool_timeout: float = 2.0,
        purge_interval: float | None = DEFAULT_INTERVAL,
        purge_batch: int = DEFAULT_BATCH,
        purge_grace: float = GRACE,
    ) -> None:
        self._schema = schema
        #: The libpq URL or DSN (may hold a password: never log it; ``repr`` leaves it out).
        #: ``sessionward check`` reads it to tell a store on another host without TLS.
        self.conninfo = conninfo
        self.plans = plans = self.plans_type(schema)
        limits = PgLimits(min_size, max_size, connect_timeout, statement_timeout, pool_timeout)
        target = PgTarget(
            conninfo, schema, self.pool_name + schema, plans.migrate, self.failure, limits
        )
        self._start(
            target, {"interval": purge_interval, "batch": purge_batch, "grace": purge_grace}
        )

    def _start(self, target: PgTarget, purge: dict[str, Any]) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(schema={self._schema!r})"

    @staticmethod
    def failure(exc: Exception) -> Exception:
        raise NotImplementedError


def _execute(conn: psycopg.Connection[tuple[Any, ...]], op: StoreCall) -> Any:
    if op.method == "transaction":
        with conn.pipeline(), conn.transaction():
            cursors = [conn.execute(*args) for args in op.args]
        return [c.fetchall() if c.description else c.rowcount for c in cursors]
    cursor = conn.execute(*op.args)
    return cursor.fetchall() if cursor.description else cursor.rowcount


async def _execute_async(conn: psycopg.AsyncConnection[tuple[Any, ...]], op: StoreCall) -> Any:
    if op.method == "transaction":
        async with conn.pipeline(), conn.transaction():
            cursors = [await conn.execute(*args) for args in op.args]
        return [await c.fetchall() if c.description else c.rowcount for c in cursors]
    cursor = await conn.execute(*op.args)
    return await cursor.fetchall() if cursor.description else cursor.rowcount


_ERRORS = (psycopg.Error, psycopg_pool.PoolTimeout)


class PgRunner:
    """Runs plans on a pool of synchronous connections; migrates the schema on first use."""

    def __init__(self, target: PgTarget) -> None:
        self.target = target
        self.deadline = call_deadline(target.limits.statement_timeout)
        self.pool: Pool = open_pool(**target.pool_arguments())
        self._ready = False
        self._lock = threading.Lock()
        self.pool.open(wait=False)

    def ensure_schema(self) -> None:
        with self._lock:
            if not self._ready:
                self.drive(self.target.migrate(), atomic=True)
                self._ready = True

    def drive(self, plan: Plan[T], *, atomic: bool) -> T:
        """Run ``plan`` on one pooled connection (in one transaction when ``atomic``)."""
        try:
            with pooled(self.pool, self.deadline) as conn:
                scope = conn.transaction() if atomic else contextlib.nullcontext()
                with scope:
                    return drive(plan, lambda op: _execute(conn, op))
        except _ERRORS as exc:
            raise self.target.failure(exc) from exc

    def run(self, plan: Plan[T], *, atomic: bool = False) -> T:
        if not self._ready:
            self.ensure_schema()
        return self.drive(plan, atomic=atomic)

    def close(self) -> None:
        self.pool.close()


class AsyncPgRunner:
    """The asyncio twin of :class:`PgRunner`: the pool opens inside the running loop."""

    def __init__(self, target: PgTarget) -> None:
        self.target = target
        self.deadline = call_deadline(target.limits.statement_timeout)
        self.pool: AsyncPool | None = None
        self._ready = False
        self._opening: asyncio.Lock | None = None

    async def ensure_schema(self) -> None:
        """Open the pool and create or migrate the schema (idempotent)."""
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._ready:
                return
            if self.pool is None:
                self.pool = open_async_pool(**self.target.pool_arguments())
                await self.pool.open(wait=False)
            await self.drive(self.target.migrate(), atomic=True)
            self._ready = True

    async def drive(self, plan: Plan[T], *, atomic: bool) -> T:
        """Run ``plan`` on one pooled connection (in one transaction when ``atomic``)."""
        if self.pool is None:
            await self.ensure_schema()
        pool = self.pool
        if pool is None:  # pragma: no cover - ensure_schema always sets it
            raise RuntimeError("the PostgreSQL pool did not open")
        try:
            async with async_pooled(pool, self.deadline) as conn:
                scope = conn.transaction() if atomic else contextlib.nullcontext()
                async with scope:
                    return await drive_async(plan, lambda op: _execute_async(conn, op))
        except _ERRORS as exc:
            raise self.target.failure(exc) from exc

    async def run(self, plan: Plan[T], *, atomic: bool = False) -> T:
        if not self._ready:
            await self.ensure_schema()
        return await self.drive(plan, atomic=atomic)

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()
