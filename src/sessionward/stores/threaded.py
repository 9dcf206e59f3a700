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
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

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
    """Adapt a synchronous :class:`Store` to :class:`AsyncStore`.

    Each method hands back the coroutine of :meth:`_call` instead of being a coroutine that
    awaits it: the same awaitable for the caller, one coroutine fewer per store call.
    """

    def __init__(self, store: Store, *, offload: bool = True) -> None:
        self.sync = store
        self._offload = offload
        #: The wrapped store's buckets, if it spreads over some (``core.placement``).
        self.placement = getattr(store, "placement", None)

    async def _call(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        if not self._offload:
            return fn(*args, **kwargs)
        return await run_in_thread(fn, *args, **kwargs)

    def create(
        self,
        record: SessionRecord,
        *,
        now: float,
        replaces: str | None = None,
        limit: SessionLimit | None = None,
    ) -> Coroutine[Any, Any, list[SessionRecord]]:
        return self._call(self.sync.create, record, now=now, replaces=replaces, limit=limit)

    def get(self, key: str) -> Coroutine[Any, Any, SessionRecord | None]:
        return self._call(self.sync.get, key)

    def get_by_handle(self, handle: str) -> Coroutine[Any, Any, SessionRecord | None]:
        return self._call(self.sync.get_by_handle, handle)

    def update(self, key: str, change: RecordUpdate) -> Coroutine[Any, Any, SessionRecord | None]:
        return self._call(self.sync.update, key, change)

    def delete(self, key: str) -> Coroutine[Any, Any, SessionRecord | None]:
        return self._call(self.sync.delete, key)

    def list_by_user(self, user_id: str) -> Coroutine[Any, Any, list[SessionRecord]]:
        return self._call(self.sync.list_by_user, user_id)

    def list_all(self, *, limit: int = 1000) -> Coroutine[Any, Any, list[SessionRecord]]:
        return self._call(self.sync.list_all, limit=limit)

    def delete_by_user(
        self, user_id: str, *, keep: str | None = None
    ) -> Coroutine[Any, Any, list[SessionRecord]]:
        return self._call(self.sync.delete_by_user, user_id, keep=keep)

    def delete_all(self) -> Coroutine[Any, Any, int]:
        return self._call(self.sync.delete_all)

    def purge_expired(self, now: float) -> Coroutine[Any, Any, int]:
        return self._call(self.sync.purge_expired, now)

    def renew(
        self, key: str, new_key: str, stub: SessionRecord, *, handle: str
    ) -> Coroutine[Any, Any, SessionRecord | None]:
        return self._call(self.sync.renew, key, new_key, stub, handle=handle)

    def close(self) -> Coroutine[Any, Any, None]:
        return self._call(self.sync.close)


class AsyncMemoryStore(ThreadedAsyncStore):
    """The in-memory store for async apps; ``.sync`` is the shared :class:`MemoryStore`."""

    def __init__(self, store: MemoryStore | None = None) -> None:
        super().__init__(store or MemoryStore(), offload=False)
