"""The async side of the audit log, for :class:`~sessionward.AsyncSessionManager`.

* :class:`AsyncAuditLog`: the async twin of :class:`~sessionward.audit.base.AuditLog`, with the
  same invariants.
* :class:`ThreadedAsyncAuditLog`: any sync log (SQLite, Redis, PostgreSQL, memory) behind that
  protocol, each call in a worker thread, so the loop never waits for the database.
* :class:`AsyncAuditSink` and :class:`AsyncNewDeviceNotifier`: the async sinks. The manager
  runs each delivery as a task and ``aclose()`` awaits the ones still pending. The notifier's
  decisions are :class:`~sessionward.audit.base.NewDeviceRules`, shared with the sync one.

A sync :class:`~sessionward.audit.AuditSink` also never blocks the loop (it runs on the sink
worker thread); the async sinks are for a log that is natively async, or to keep the sync
worker free for other sinks.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Collection
from typing import Protocol

from ..core.devices import DeviceLabeler
from ..core.events import Event, EventKind
from ..stores.threaded import run_in_thread
from .base import AuditEntry, AuditLog, NewDeviceRules

#: A new-device hook for the async notifier: a plain function or a coroutine function.
AsyncNewDeviceHook = Callable[[Event], "Awaitable[None] | None"]


class AsyncAuditLog(Protocol):
    """The asynchronous twin of :class:`~sessionward.audit.base.AuditLog`."""

    async def append(self, event: Event) -> None: ...

    async def query(
        self,
        *,
        user_id: str | None = None,
        handle: str | None = None,
        kinds: Collection[EventKind] | None = None,
        since: float | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]: ...

    async def tail(self, *, after: str | None = None, limit: int = 100) -> list[AuditEntry]: ...

    async def close(self) -> None: ...


class ThreadedAsyncAuditLog:
    """Adapt a synchronous :class:`AuditLog` to :class:`AsyncAuditLog` (calls in a thread)."""

    def __init__(self, log: AuditLog) -> None:
        self.sync = log

    def __repr__(self) -> str:
        return f"ThreadedAsyncAuditLog({self.sync!r})"

    async def append(self, event: Event) -> None:
        await run_in_thread(self.sync.append, event)

    async def query(
        self,
        *,
        user_id: str | None = None,
        handle: str | None = None,
        kinds: Collection[EventKind] | None = None,
        since: float | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        return await run_in_thread(
            lambda: self.sync.query(
                user_id=user_id, handle=handle, kinds=kinds, since=since, limit=limit
            )
        )

    async def tail(self, *, after: str | None = None, limit: int = 100) -> list[AuditEntry]:
        return await run_in_thread(lambda: self.sync.tail(after=after, limit=limit))

    async def close(self) -> None:
        await run_in_thread(self.sync.close)


class AsyncAuditSink:
    """An :class:`~sessionward.core.events.AsyncEventSink` that appends every event to a log."""

    def __init__(self, log: AsyncAuditLog) -> None:
        self.log = log

    def __repr__(self) -> str:
        return f"AsyncAuditSink({self.log!r})"

    async def __call__(self, event: Event) -> None:
        await self.log.append(event)


class AsyncNewDeviceNotifier(NewDeviceRules):
    """:class:`~sessionward.audit.NewDeviceNotifier` over an :class:`AsyncAuditLog`.

    The same decisions (:class:`~sessionward.audit.base.NewDeviceRules`); only the calls to the
    log are awaited. ``notify`` may be a plain function or a coroutine function.
    """

    def __init__(
        self,
        log: AsyncAuditLog,
        notify: AsyncNewDeviceHook,
        *,
        labeler: DeviceLabeler | str | None = "auto",
        lookback: int = 500,
        notify_first_login: bool = False,
    ) -> None:
        super().__init__(labeler=labeler, lookback=lookback, notify_first_login=notify_first_login)
        self.log = log
        self.notify = notify

    def __repr__(self) -> str:
        return f"AsyncNewDeviceNotifier({self.log!r})"

    async def __call__(self, event: Event) -> None:
        if not self.watches(event):
            return
        news = self.judge(event, await self.log.query(**self.lookup(event)))
        if news is None:
            return
        await self.log.append(news)
        notified = self.notify(news)
        if inspect.isawaitable(notified):
            await notified
