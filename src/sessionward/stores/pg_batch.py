"""Group commit and read coalescing: the async PostgreSQL store's calls travel in batches.

With ``synchronous_commit=on`` (kept: an asynchronous commit lost in a crash could bring back a
session that was logged out or revoked) every committed write waits for a WAL flush, an
``fdatasync`` of a few milliseconds on an ordinary disk. One autocommit ``UPDATE`` per request
therefore costs each request a flush, a round trip and a pooled connection for that long.

A :class:`Coalescer` runs one batch at a time: calls that arrive while a batch is in flight
wait and all go in the next one, at once when it finishes (there is no timer and no added
wait for a lone call). The store sends a batch of updates as one transaction in one round trip
(:meth:`~sessionward.stores.pg_plans.Plans.update_many`): one WAL flush for all of them, and
every caller's update is answered only after that transaction's ``COMMIT`` returned, so each
acknowledged write is as durable as before. A batch of lookups is one ``SELECT ... WHERE key =
ANY(...)``. Each caller gets its own result, or its own exception.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

I = TypeVar("I")  # noqa: E741 (an item)
R = TypeVar("R")

Flush = Callable[[list[I]], Awaitable[list[R | Exception]]]


class Coalescer(Generic[I, R]):
    """Runs ``flush`` on batches of the items callers submit, one batch at a time.

    ``flush`` receives the items in arrival order and returns one result or exception per item;
    an exception it raises goes to every caller of that batch. A caller that is cancelled stops
    waiting; its item may still be applied (as when a request is cancelled mid-query).
    """

    def __init__(self, flush: Flush[I, R], *, limit: int = 64) -> None:
        self._flush = flush
        self._limit = limit
        self._waiting: list[tuple[I, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None

    async def __call__(self, item: I) -> R:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        task = self._task
        if task is not None and (task.done() or task.get_loop() is not loop):
            # A batch of a loop that was closed mid-flight: nobody is left to answer there.
            self._waiting = [w for w in self._waiting if w[1].get_loop() is loop]
            task = self._task = None
        self._waiting.append((item, future))
        if task is None:
            self._task = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[: self._limit]
                del self._waiting[: self._limit]
                try:
                    results = await self._flush([item for item, _ in batch])
                except Exception as exc:
                    results = [exc] * len(batch)
                except BaseException:  # the loop is closing: nobody will be answered
                    for _, future in batch + self._waiting:
                        future.cancel()
                    self._waiting.clear()
                    raise
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():
                        continue  # the caller was cancelled
                    if isinstance(result, Exception):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self._task = None
