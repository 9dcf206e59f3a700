"""Delivering audit events to the sinks without ever blocking an event loop.

Three kinds of sink, three ways to deliver:

* An **async sink** (``async def __call__``, see :class:`~sessionward.core.events.AsyncEventSink`)
  is scheduled as a task on the running loop; :meth:`SinkDispatcher.aclose` awaits the tasks
  still pending. It needs an asyncio loop: given one outside a loop (a synchronous manager),
  :meth:`SinkDispatcher.require_sync` refuses it at construction.
* A **fast sync sink** (``inline = True``: :class:`~sessionward.sinks.MemorySink`,
  :class:`~sessionward.sinks.LoggingSink`) is called inline, as before.
* Any other **sync sink** (an :class:`~sessionward.audit.AuditSink` writing to a database, a
  notifier sending mail) is called inline when there is no running event loop in this thread
  (WSGI, Django, Flask, scripts: the request is a thread anyway), and otherwise put on a
  bounded queue drained by one worker thread, so the request never waits for it.

Overflow policy: the queue holds ``max_pending`` events (10,000 by default). When it is full
the *oldest* waiting event is dropped, :attr:`SinkDispatcher.dropped` counts it and a warning is
logged (at most once per overflow episode): a stuck audit database must cost audit events, never
the application's memory or its latency. Shutdown flushes: ``close()`` / ``aclose()`` on the
manager, the ASGI lifespan shutdown in :class:`~sessionward.integrations.asgi.SessionMiddleware`,
and an ``atexit`` hook for scripts, each waiting at most ``timeout`` seconds.
"""

from __future__ import annotations

import asyncio
import atexit
import inspect
import logging
import threading
import weakref
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import Future
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from .core.events import Event
from .errors import ConfigurationError

logger = logging.getLogger("sessionward")
#: Events that may wait for the worker thread before the oldest is dropped.
MAX_PENDING = 10_000
#: Seconds a shutdown flush waits for the worker before giving up (and logging what is left).
FLUSH_TIMEOUT = 5.0

AnySink = Callable[[Event], Any]


def is_async_sink(sink: object) -> bool:
    """Whether calling ``sink`` returns an awaitable (an ``async def`` function or ``__call__``)."""
    call = getattr(sink, "__call__", None)  # noqa: B004 (we want the bound method itself)
    return inspect.iscoroutinefunction(sink) or inspect.iscoroutinefunction(call)


def may_defer(sinks: Sequence[AnySink]) -> bool:
    """Whether any of ``sinks`` may be delivered after the call (an async or a slow sync sink).

    When none may, :func:`after_response` has nothing to wait for and can be skipped.
    """
    for sink in sinks:  # noqa: SIM110 (asked on every request: no generator for it)
        if not getattr(sink, "inline", False):
            return True
    return False


def _running_loop() -> asyncio.AbstractEventLoop | None:
    # The non-raising form of get_running_loop(): the sync path pays no exception per event.
    return asyncio._get_running_loop()


def _report(sink: object, event: Event) -> None:
    # An audit sink must never turn a request into a 500.
    logger.exception("sessionward: event sink %r failed for %s", sink, event.kind)


class _Worker:
    """A bounded queue of (sink, event) drained by one daemon thread, started on demand."""

    def __init__(self, max_pending: int) -> None:
        self.max_pending = max_pending
        self.dropped = 0
        self._items: deque[tuple[AnySink, Event, Future[None] | None]] = deque()
        self._busy = 0  # items taken off the queue but not yet delivered
        self._lock = threading.Condition()
        self._thread: threading.Thread | None = None
        self._overflowing = False

    def put(self, sink: AnySink, event: Event, done: Future[None] | None) -> None:
        with self._lock:
            if len(self._items) >= self.max_pending:
                _, _, lost = self._items.popleft()
                if lost is not None:
                    lost.set_result(None)  # nobody waits for a dropped event
                self.dropped += 1
                if not self._overflowing:
                    self._overflowing = True
                    logger.warning(
                        "sessionward: event sink queue full (%d waiting); dropping the oldest "
                        "events until the sinks catch up (dropped so far: %d)",
                        self.max_pending,
                        self.dropped,
                    )
            self._items.append((sink, event, done))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="sessionward-sinks", daemon=True
                )
                self._thread.start()
            self._lock.notify_all()

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._items:
                    if self._thread is not threading.current_thread():
                        return  # closed (or replaced) while idle
                    self._lock.wait()
                sink, event, done = self._items.popleft()
                self._busy += 1
                if not self._items:
                    self._overflowing = False
            try:
                sink(event)
            except Exception:
                _report(sink, event)
            finally:
                if done is not None:
                    done.set_result(None)
                with self._lock:
                    self._busy -= 1
                    self._lock.notify_all()

    def pending(self) -> int:
        with self._lock:
            return len(self._items) + self._busy

    def close(self, timeout: float) -> bool:
        """Deliver what is queued (waiting at most ``timeout``), then stop the thread.

        Returns whether everything was delivered. A later :meth:`put` starts a new thread.
        """
        with self._lock:
            done = self._lock.wait_for(lambda: not self._items and not self._busy, timeout)
            left = len(self._items) + self._busy
            self._thread = None
            self._lock.notify_all()
        if not done:
            logger.warning(
                "sessionward: %d audit events were still waiting for a slow sink at shutdown",
                left,
            )
        return done


class SinkDispatcher:
    """Sends each event to every sink in the way that suits it (see the module docstring)."""

    def __init__(self, *, max_pending: int = MAX_PENDING, inline: bool = False) -> None:
        #: Call every sync sink inline, even on an event loop's thread: set for a sync
        #: SessionManager, which runs only where blocking is allowed (its store calls block too).
        self.inline = inline
        if isinstance(max_pending, bool) or not isinstance(max_pending, int) or max_pending < 1:
            raise ConfigurationError("max_pending must be a whole number of events, at least 1")
        self._sorted: tuple[Sequence[AnySink], tuple[bool, ...]] = ((), ())
        self._worker = _Worker(max_pending)
        self._tasks: set[asyncio.Task[None]] = set()
        self._exit_hook = _exit_hook(self._worker)

    @property
    def dropped(self) -> int:
        """Events dropped because the worker's queue was full (the overflow policy)."""
        return self._worker.dropped

    def pending(self) -> int:
        """Events waiting for the worker thread or for an async sink."""
        return self._worker.pending() + len(self._tasks)

    @staticmethod
    def require_sync(owner: str, sinks: Sequence[AnySink]) -> None:
        """Refuse async sinks for a manager that never runs an event loop."""
        found = [s for s in sinks if is_async_sink(s)]
        if found:
            names = ", ".join(repr(s) for s in found)
            raise ConfigurationError(
                f"{owner} cannot await async event sinks ({names}); use AsyncSessionManager, "
                "or pass the synchronous sink (e.g. AuditSink instead of AsyncAuditSink)"
            )

    def _kinds(self, sinks: Sequence[AnySink]) -> tuple[bool, ...]:
        known, kinds = self._sorted
        if known is not sinks:  # the sinks changed (or first call): sort them once
            kinds = tuple(is_async_sink(s) for s in sinks)
            self._sorted = (sinks, kinds)
        return kinds

    def dispatch(self, sinks: Sequence[AnySink], event: Event) -> None:
        """Deliver ``event`` to each of ``sinks``; never raises, never blocks a loop."""
        loop = _running_loop()
        waiting = _deliveries.get()
        for sink, is_async in zip(sinks, self._kinds(sinks), strict=True):
            if is_async:
                self._schedule(loop, sink, event, waiting)
            elif loop is None or self.inline or getattr(sink, "inline", False):
                try:
                    sink(event)
                except Exception:
                    _report(sink, event)
            else:
                done: Future[None] | None = None
                if waiting is not None:
                    done = Future()
                    waiting.append(asyncio.wrap_future(done, loop=loop))
                self._worker.put(sink, event, done)

    def _schedule(
        self,
        loop: asyncio.AbstractEventLoop | None,
        sink: AnySink,
        event: Event,
        waiting: list[asyncio.Future[None]] | None,
    ) -> None:
        if loop is None:
            logger.error(
                "sessionward: async event sink %r called outside an event loop; %s not recorded",
                sink,
                event.kind,
            )
            return
        task = loop.create_task(_deliver(sink(event), sink, event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if waiting is not None:
            waiting.append(task)

    def close(self, timeout: float = FLUSH_TIMEOUT) -> bool:
        """Flush the worker's queue (at most ``timeout`` seconds); whether all was delivered."""
        return self._worker.close(timeout)

    async def aclose(self, timeout: float = FLUSH_TIMEOUT) -> bool:
        """Await pending async sinks, then flush the worker's queue off the loop."""
        delivered = True
        if self._tasks:
            _, waiting = await asyncio.wait(set(self._tasks), timeout=timeout)
            if waiting:
                delivered = False
                logger.warning(
                    "sessionward: %d async sink deliveries still pending at shutdown",
                    len(waiting),
                )
        flushed = await asyncio.to_thread(self._worker.close, timeout)
        return delivered and flushed


#: The deliveries started while serving the current request (see :func:`after_response`).
_deliveries: ContextVar[list[asyncio.Future[None]] | None] = ContextVar(
    "sessionward_sink_deliveries", default=None
)


@asynccontextmanager
async def after_response(timeout: float = FLUSH_TIMEOUT) -> AsyncIterator[None]:
    """Wait, on leaving the block, for the sink deliveries started inside it.

    The ASGI middleware wraps each request in this: the response has already been sent when
    the block ends, so the client does not wait, but the request's task ends only once its
    events are recorded (at most ``timeout`` seconds). That keeps "log in, then read the login
    history" consistent for the next request, and a flood of requests cannot outrun a slow
    sink by more than the requests in flight.
    """
    waiting: list[asyncio.Future[None]] = []
    token = _deliveries.set(waiting)
    try:
        yield
    finally:
        _deliveries.reset(token)
        if waiting:
            _, late = await asyncio.wait(waiting, timeout=timeout)
            if late:
                logger.warning(
                    "sessionward: %d event deliveries still pending after the response", len(late)
                )


async def _deliver(pending: Awaitable[None], sink: AnySink, event: Event) -> None:
    try:
        await pending
    except Exception:
        _report(sink, event)


def _exit_hook(worker: _Worker) -> Callable[[], None]:
    """Flush at interpreter exit. Holds the worker weakly: its thread keeps it alive while
    events wait, even after the manager itself is gone (a script that never called close)."""
    ref = weakref.ref(worker)

    def flush() -> None:
        alive = ref()
        if alive is not None and alive.pending():
            alive.close(FLUSH_TIMEOUT)

    atexit.register(flush)
    forget = weakref.finalize(worker, atexit.unregister, flush)
    forget.atexit = False  # at exit, flush must run, not be unregistered first
    return flush
