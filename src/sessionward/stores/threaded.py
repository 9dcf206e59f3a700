"""Async twins of synchronous stores.

``AsyncMemoryStore`` calls its store inline (every operation is a few microseconds under a
lock). ``ThreadedAsyncStore`` runs each call in a worker thread so a blocking backend (SQLite
waiting on a lock held by another process) never stalls the event loop.

:func:`run_in_thread` is the one way sessionward leaves the event loop. It uses anyio's worker
threads when anyio is installed (it comes with Starlette and FastAPI, and works under trio too),
and the standard library's ``asyncio.to_thread`` otherwise, so ``import sessionward`` and the
async stores need no third-party package on a bare install.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from ..core.records import SessionRecord
from .base import RecordUpdate, SessionLimit, Store
from .memory import MemoryStore

P = ParamSpec("P")
R = TypeVar("R")

try:
    import anyio.to_thread as _anyio_to_thread
except ImportError:  # a bare install: asyncio only
    _anyio_to_thread = None  # type: ignore[assignment]


async def run_in_thread(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run the blocking ``fn(*args, **kwargs)`` in a worker thread and await its result."""
    call = functools.partial(fn, *args, **kwargs)
    if _anyio_to_thread is not None:
        return await _anyio_to_thread.run_sync(call)
    return await asyncio.to_thread(call)


class ThreadedAsyncStore:
    """Adapt a synchronous :class:`Store` to :class:`AsyncStore`."""

    def __init__(self, store: Store, *, offload: bool = True) -> None:
        self.sync = store
        self._offload = offload

    async def _call(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        if not self._offload:
            return fn(*args, **kwargs)
        return await run_in_thread(fn, *args, **kwargs)

    async def create(
        self,
        record: SessionRecord,
        *,
        now: float,
        replaces: str | None = None,
        limit: SessionLimit | None = None,
    ) -> list[SessionRecord]:
        return await self._call(self.sync.create, record, now=now, replaces=replaces, limit=limit)

    async def get(self, key: str) -> SessionRecord | None:
        return await self._call(self.sync.get, key)

    async def get_by_handle(self, handle: str) -> SessionRecord | None:
        return await self._call(self.sync.get_by_handle, handle)

    async def update(self, key: str, change: RecordUpdate) -> SessionRecord | None:
        return await self._call(self.sync.update, key, change)

    async def delete(self, key: str) -> SessionRecord | None:
        return await self._call(self.sync.delete, key)

    async def list_by_user(self, user_id: str) -> list[SessionRecord]:
        return await self._call(self.sync.list_by_user, user_id)

    async def list_all(self, *, limit: int = 1000) -> list[SessionRecord]:
        return await self._call(self.sync.list_all, limit=limit)

    async def delete_by_user(self, user_id: str, *, keep: str | None = None) -> list[SessionRecord]:
        return await self._call(self.sync.delete_by_user, user_id, keep=keep)

    async def delete_all(self) -> int:
        return await self._call(self.sync.delete_all)

    async def purge_expired(self, now: float) -> int:
        return await self._call(self.sync.purge_expired, now)

    async def renew(
        self, key: str, new_key: str, stub: SessionRecord, *, handle: str
    ) -> SessionRecord | None:
        return await self._call(self.sync.renew, key, new_key, stub, handle=handle)

    async def close(self) -> None:
        await self._call(self.sync.close)


class AsyncMemoryStore(ThreadedAsyncStore):
    """The in-memory store for async apps; ``.sync`` is the shared :class:`MemoryStore`."""

    def __init__(self, store: MemoryStore | None = None) -> None:
        super().__init__(store or MemoryStore(), offload=False)
