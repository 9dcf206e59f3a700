"""Where the guessing guard and the login limiter keep their counters.

A manager picks the backend from its store: next to a shared store (Redis, PostgreSQL) the
counters are shared by every app instance using that store, so a guesser cannot multiply its
budget by spreading requests over instances; with the memory and SQLite stores they stay in
the process (bounded, least recently used forgotten first). Pass ``counters=`` to a manager to
choose another backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..core.guessing import Counters, MemoryCounters

__all__ = ["AsyncMemoryCounters", "Counters", "MemoryCounters", "counters_for", "is_local"]


class AsyncMemoryCounters:
    """In-process counters for async managers (the memory calls never block)."""

    def __init__(self, counters: MemoryCounters | None = None) -> None:
        self.counters = counters or MemoryCounters()

    def __repr__(self) -> str:
        return f"AsyncMemoryCounters({self.counters!r})"

    def __len__(self) -> int:
        return len(self.counters)

    async def hit(self, key: str, member: str | None, window: float, now: float) -> int:
        return self.counters.hit(key, member, window, now)

    async def mark(self, key: str, until: float, now: float) -> None:
        self.counters.mark(key, until, now)

    async def marks(self, keys: Sequence[str], now: float) -> list[float | None]:
        return self.counters.marks(keys, now)

    async def clear(self, keys: Sequence[str]) -> None:
        self.counters.clear(keys)


def counters_for(store: Any, *, asynchronous: bool) -> Any:
    """The counters backend that suits ``store`` (shared for Redis and PostgreSQL stores)."""
    if _from(store, "sessionward.stores.redis"):
        from .redis import shared_redis_counters

        return shared_redis_counters(store, asynchronous=asynchronous)
    if _from(store, "sessionward.stores.postgres"):
        from .postgres import shared_postgres_counters

        return shared_postgres_counters(store, asynchronous=asynchronous)
    return AsyncMemoryCounters() if asynchronous else MemoryCounters()


def _from(store: Any, module: str) -> bool:
    # Subclasses (a test's self-cleaning store, an app's wrapper) count as the store they extend.
    return any(c.__module__ == module for c in type(store).__mro__)


def is_local(counters: Any) -> bool:
    """Whether ``counters`` live in this process (not shared with other instances)."""
    return isinstance(counters, MemoryCounters | AsyncMemoryCounters)
