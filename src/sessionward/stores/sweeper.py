"""Automatic purge of expired rows in the SQL stores: small batches, off the request path.

Redis drops expired records by itself; SQLite and PostgreSQL keep them until someone deletes
them. A :class:`Sweeper` (sync stores) or :class:`AsyncSweeper` (async stores) is poked by the
store's writes with the app's ``now``; at most once per ``interval`` seconds the poke starts a
*round* in the background (a short-lived thread, or a task in the event loop), so the request
that poked never waits for it. A round deletes expired rows ``batch`` at a time, each batch its
own short transaction, until a batch comes back short (or ``MAX_BATCHES`` ran).

Several app processes share one database: each batch first takes a *lease* row
(``name, holder, until``) in the same transaction. The holder renews it with every batch; the
others find it held and skip their round, so one instance sweeps at a time and the lease
passes on by itself when its holder stops (it lapses after ``interval``).

Each round ends with one log line on the ``sessionward`` logger (INFO when rows were purged,
WARNING on a failure) and updates :class:`SweepStats`, which
:func:`sessionward.metrics.sweep_collector` exposes as Prometheus counters.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass

from ..calls import drive, drive_async
from ..errors import ConfigurationError

logger = logging.getLogger("sessionward")

#: Batches one round may run (``batch`` x this many rows); the rest waits for the next round.
MAX_BATCHES = 200
DEFAULT_INTERVAL = 300.0
DEFAULT_BATCH = 500
#: Rows are swept this long after they expire (``purge_grace``), not at once: a user coming
#: back with a cookie that just expired still gets "session expired" (and an EXPIRED event),
#: not "unknown ID".
GRACE = 3600.0

# One batch: (now, batch size, holder, lease until) -> rows deleted, or None when another
# instance holds the lease.
Step = Callable[[float, int, str, float], "int | None"]
AsyncStep = Callable[[float, int, str, float], Awaitable["int | None"]]


@dataclass
class SweepStats:
    """What one store's sweeper has done since start (read by the metrics collector)."""

    rounds: int = 0
    purged: int = 0
    skipped: int = 0  # rounds left to the instance holding the lease
    errors: int = 0
    last_round_at: float | None = None


class _Schedule:
    """When a round is due, and one round's logic (a generator the drivers below run)."""

    def __init__(self, name: str, *, interval: float | None, batch: int, grace: float) -> None:
        if not grace >= 0:
            raise ConfigurationError("purge_grace must be a number of seconds >= 0")
        if interval is not None and not interval > 0:
            raise ConfigurationError(
                "purge_interval must be a positive number of seconds, or None to turn the "
                "automatic purge off (then run `sessionward purge` from cron)"
            )
        if not isinstance(batch, int) or not 1 <= batch <= 100_000:
            raise ConfigurationError("purge_batch must be an integer from 1 to 100000")
        self.name = name
        self.interval = interval
        self.batch = batch
        self.grace = grace
        self.holder = uuid.uuid4().hex
        self.stats = SweepStats()
        self._next_at: float | None = None
        self._running = False
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.interval is not None

    def _claim(self, now: float) -> bool:
        if self.interval is None:
            return False
        with self._lock:
            if self._running:
                return False
            if self._next_at is None:  # the first write after start sweeps: catch up
                self._next_at = now
            if now < self._next_at:
                return False
            self._running = True
            self._next_at = now + self.interval
            return True

    def _round(self, now: float) -> Generator[int, int | None, int]:
        """Yield batch sizes, receive rows deleted (None: lease held elsewhere)."""
        total = batches = 0
        try:
            while batches < MAX_BATCHES:
                deleted = yield self.batch
                if deleted is None:
                    self.stats.skipped += 1
                    return 0
                batches += 1
                total += deleted
                if deleted < self.batch:
                    break
        except Exception as exc:  # a failed batch: the next round tries again
            self.stats.errors += 1
            logger.warning(
                "sessionward: automatic purge of %s failed after %d row(s): %s",
                self.name,
                total,
                exc,
            )
        finally:
            self.stats.rounds += 1
            self.stats.purged += total
            self.stats.last_round_at = now
            with self._lock:
                self._running = False
        if total:
            logger.info(
                "sessionward: automatic purge deleted %d expired row(s) of %s in %d batch(es) "
                "(next round in %.0f s)",
                total,
                self.name,
                batches,
                self.interval or 0.0,
            )
        return total


class Sweeper(_Schedule):
    """The sweeper of a synchronous store; a round runs in a short-lived daemon thread."""

    def __init__(
        self,
        name: str,
        step: Step,
        *,
        interval: float | None,
        batch: int,
        grace: float = GRACE,
        thread_done: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(name, interval=interval, batch=batch, grace=grace)
        self._step = step
        self._thread_done = thread_done  # e.g. close the round thread's SQLite connection
        self._thread: threading.Thread | None = None

    def poke(self, now: float) -> None:
        """Called by the store's writes: start a round if one is due."""
        if self._claim(now):
            self._thread = threading.Thread(
                target=self._background, args=(now,), name=f"sessionward-purge-{self.name}"
            )
            self._thread.daemon = True
            self._thread.start()

    def run(self, now: float) -> int:
        """One round now, in this thread (whatever the schedule); returns rows deleted."""
        with self._lock:
            if self._running:
                return 0
            self._running = True
        return self._drive(now)

    def _background(self, now: float) -> None:
        try:
            self._drive(now)
        finally:
            if self._thread_done is not None:
                self._thread_done()

    def _drive(self, now: float) -> int:
        until = now + (self.interval or 0.0)
        return drive(self._round(now), lambda size: self._step(now, size, self.holder, until))

    def wait(self, timeout: float = 10.0) -> None:
        """Wait (bounded) for a round in progress; closing the store calls this."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)


class AsyncSweeper(_Schedule):
    """The sweeper of an async store; a round runs as a task in the event loop."""

    def __init__(
        self,
        name: str,
        step: AsyncStep,
        *,
        interval: float | None,
        batch: int,
        grace: float = GRACE,
    ) -> None:
        super().__init__(name, interval=interval, batch=batch, grace=grace)
        self._step = step
        self._task: asyncio.Task[int] | None = None

    def poke(self, now: float) -> None:
        if self._claim(now):
            self._task = asyncio.get_running_loop().create_task(self._drive(now))

    async def run(self, now: float) -> int:
        with self._lock:
            if self._running:
                return 0
            self._running = True
        return await self._drive(now)

    async def _drive(self, now: float) -> int:
        until = now + (self.interval or 0.0)
        return await drive_async(
            self._round(now), lambda size: self._step(now, size, self.holder, until)
        )

    async def wait(self, timeout: float = 10.0) -> None:
        task = self._task
        if task is not None and not task.done():
            await asyncio.wait([task], timeout=timeout)
