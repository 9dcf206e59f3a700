"""Connection settings shared by every PostgreSQL backend (sessions, refresh tokens, audit).

One place decides what the time-outs mean, so the session store, the token store, the audit
log (and anything else that borrows their connections) bound their waits the same way: past
``connect_timeout``, ``pool_timeout`` or ``statement_timeout`` a call fails (as
``StoreUnavailable``) instead of hanging a request.

``statement_timeout`` alone is not enough: the server enforces it, so a stalled server (SIGSTOP,
a swap storm) or a network that drops packets never sends the error and the client would wait
for the whole stall. :func:`pooled` and :func:`async_pooled` therefore also arm a client-side
deadline on the borrowed connection; when a call outlives it, the connection's socket is shut
down, psycopg fails the call at once and the pool discards the connection. libpq keepalives
and ``tcp_user_timeout`` catch connections that die while idle in the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import re
import select
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import psycopg
import psycopg_pool
from psycopg_pool.base import AttemptWithBackoff
from psycopg_pool.pool_async import MaintenanceTask, StopWorker  # see AsyncPool.run_task

from ..errors import ConfigurationError

SCHEMA_SHAPE = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# A call may run this much longer than statement_timeout before the client cuts it: the
# server's own time-out fires first when the server is alive (the connection then survives).
DEADLINE_GRACE = 0.5
# Reconnection after a restart: first retry after 50 ms, never more than 0.5 s apart (the
# pool's own back-off starts at 1 s and doubles, so a restart cost seconds of 503s).
RECONNECT_FIRST_DELAY = 0.05
RECONNECT_MAX_DELAY = 0.5

SyncConnection = psycopg.Connection[tuple[Any, ...]]
AsyncConnection = psycopg.AsyncConnection[tuple[Any, ...]]


def check_schema(schema: object) -> str:
    """A schema name safe to use as an SQL identifier, or a ``ConfigurationError``."""
    if not isinstance(schema, str) or not SCHEMA_SHAPE.fullmatch(schema):
        raise ConfigurationError("schema must be a lower-case SQL identifier (a-z, 0-9, _)")
    return schema


def connection_kwargs(
    schema: str,
    *,
    connect_timeout: float,
    statement_timeout: float,
    pool_timeout: float,
    max_size: int,
) -> dict[str, Any]:
    """Validate the settings and return the keyword arguments for each pooled connection."""
    check_schema(schema)
    if min(connect_timeout, statement_timeout, pool_timeout) <= 0:
        raise ConfigurationError("PostgreSQL time-outs must be positive numbers of seconds")
    if max_size < 1:
        raise ConfigurationError("max_size must be at least 1")
    return {
        "autocommit": True,
        # libpq rounds connect_timeout to whole seconds (and treats 1 as 2).
        "connect_timeout": max(2, round(connect_timeout)),
        "options": f"-c statement_timeout={int(statement_timeout * 1000)}",
        # A partition while a connection sits idle in the pool: keepalives notice within
        # about 10 s, and unacknowledged data gives up after tcp_user_timeout (ms).
        "keepalives": 1,
        "keepalives_idle": 5,
        "keepalives_interval": 2,
        "keepalives_count": 2,
        "tcp_user_timeout": int(max(5.0, statement_timeout + DEADLINE_GRACE) * 1000),
    }


def call_deadline(statement_timeout: float) -> float:
    """Seconds a call may hold a connection before the client cuts it."""
    return statement_timeout + DEADLINE_GRACE


class _QuickBackoff(AttemptWithBackoff):
    INITIAL_DELAY = RECONNECT_FIRST_DELAY
    DELAY_BACKOFF = 1.5

    def update_delay(self, now: float) -> None:
        super().update_delay(now)
        self.delay = min(self.delay, RECONNECT_MAX_DELAY)


class Pool(psycopg_pool.ConnectionPool[SyncConnection]):
    """psycopg's pool with a reconnection back-off measured in tens of milliseconds."""

    def _add_connection(self, attempt: AttemptWithBackoff | None, growing: bool = False) -> None:
        super()._add_connection(attempt or _QuickBackoff(timeout=self.reconnect_timeout), growing)


class AsyncPool(psycopg_pool.AsyncConnectionPool[AsyncConnection]):
    """The asyncio twin of :class:`Pool`, whose workers end when they are cancelled.

    psycopg_pool's async worker (3.3.3; 3.2.0 let it through) counts a ``CancelledError`` from a
    maintenance task (a connection attempt, say) as that task failing and waits for the next
    one, so an event loop closing while a connection is being made (``asyncio.run`` returning
    soon after the store's first use) waited for ever. Each task here asks for the
    cancellation again when it was swallowed; the worker's next wait then ends it.
    """

    def run_task(self, task: MaintenanceTask) -> None:
        super().run_task(task if isinstance(task, StopWorker) else _Cancellable(task))

    async def _add_connection(
        self, attempt: AttemptWithBackoff | None, growing: bool = False
    ) -> None:
        await super()._add_connection(
            attempt or _QuickBackoff(timeout=self.reconnect_timeout), growing
        )


class _Cancellable(MaintenanceTask):
    """A pool maintenance task that passes its worker's cancellation on (see AsyncPool)."""

    def __init__(self, task: MaintenanceTask) -> None:
        self.pool = task.pool
        self.task = task

    def __repr__(self) -> str:
        return repr(self.task)

    async def run(self) -> None:
        try:
            await self.task.run()
        finally:
            worker = asyncio.current_task()
            if worker is not None and worker.cancelling():
                worker.cancel()

    async def _run(self, pool: Any) -> None:  # abstract in the base; run() above replaces it
        raise NotImplementedError


def pool_options(
    conninfo: str,
    kwargs: dict[str, Any],
    *,
    min_size: int,
    max_size: int,
    timeout: float,
    name: str,
) -> dict[str, Any]:
    """Our settings for a closed :class:`Pool` or :class:`AsyncPool` (open it afterwards:
    ``pool.open()``, or ``await pool.open()`` inside the event loop)."""
    return {
        "conninfo": conninfo,
        "kwargs": kwargs,
        "min_size": min(min_size, max_size),
        "max_size": max_size,
        "timeout": timeout,
        "open": False,
        "name": name,
        "reconnect_timeout": 60.0,
    }


def open_pool(conninfo: str, kwargs: dict[str, Any], **sizes: Any) -> Pool:
    """A closed :class:`Pool` with our settings (call ``open``); ``sizes`` as for
    :func:`pool_options`."""
    return Pool(**pool_options(conninfo, kwargs, **sizes))


def open_async_pool(conninfo: str, kwargs: dict[str, Any], **sizes: Any) -> AsyncPool:
    """A closed :class:`AsyncPool` (``await pool.open()`` inside the event loop)."""
    return AsyncPool(**pool_options(conninfo, kwargs, **sizes))


def _cut(fd: int) -> None:
    """Shut a connection's socket down so that whoever waits on it fails now."""
    with contextlib.suppress(OSError, ValueError):
        sock = socket.socket(fileno=fd)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        finally:
            sock.detach()  # the connection still owns the descriptor


def _dead(conn: SyncConnection | AsyncConnection) -> bool:
    # An idle connection has nothing to read: if its socket is readable, the server closed it
    # (a restart) or sent a termination notice. Checked locally, with no round trip.
    if conn.closed:
        return True
    try:
        fd = conn.fileno()
    except psycopg.Error:
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


class _Watchdog:
    """One daemon thread that cuts the connections of sync calls past their deadline."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int]] = []
        self._armed: dict[int, int] = {}
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float, fd: int) -> int:
        ticket = next(self._ids)
        at = time.monotonic() + seconds
        with self._cond:
            self._armed[ticket] = fd
            first = not self._heap or at < self._heap[0][0]
            heapq.heappush(self._heap, (at, ticket))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="sessionward-pg-deadline", daemon=True
                )
                self._thread.start()
            elif first:
                self._cond.notify()
        return ticket

    def disarm(self, ticket: int) -> None:
        with self._cond:
            self._armed.pop(ticket, None)

    def _loop(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                while self._heap and (
                    self._heap[0][0] <= now or self._heap[0][1] not in self._armed
                ):
                    _, ticket = heapq.heappop(self._heap)
                    fd = self._armed.pop(ticket, None)
                    if fd is not None:
                        _cut(fd)
                self._cond.wait(self._heap[0][0] - now if self._heap else None)


_WATCHDOG = _Watchdog()


@contextlib.contextmanager
def pooled(
    pool: psycopg_pool.ConnectionPool[SyncConnection], deadline: float
) -> Iterator[SyncConnection]:
    """Borrow a live connection whose use is cut after ``deadline`` seconds."""
    for _ in range(pool.max_size + 1):
        with pool.connection() as conn:
            if _dead(conn):
                conn.close()  # the pool discards it and opens another
                continue
            ticket = _WATCHDOG.arm(deadline, conn.fileno())
            try:
                yield conn
            finally:
                _WATCHDOG.disarm(ticket)
            return
    raise psycopg_pool.PoolTimeout("no live connection in the pool")


@contextlib.asynccontextmanager
async def async_pooled(
    pool: psycopg_pool.AsyncConnectionPool[AsyncConnection], deadline: float
) -> AsyncIterator[AsyncConnection]:
    """The asyncio twin of :func:`pooled` (the deadline is a timer in the event loop)."""
    loop = asyncio.get_running_loop()
    for _ in range(pool.max_size + 1):
        async with pool.connection() as conn:
            if _dead(conn):
                await conn.close()
                continue
            timer = loop.call_later(deadline, _cut, conn.fileno())
            try:
                yield conn
            finally:
                timer.cancel()
            return
    raise psycopg_pool.PoolTimeout("no live connection in the pool")
