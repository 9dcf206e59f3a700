"""Factories for every store the contract suite runs against.

Each factory returns a *synchronous-looking* store that starts empty, or calls
``require_service`` when its server is missing. Add a backend here and the whole suite runs on it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import require_service
from distributed.services import POSTGRES_URL, REDIS_URL, postgres_problem, redis_problem
from sessionward import AsyncMemoryStore, AsyncSQLiteStore, MemoryStore, SQLiteStore

from .adapters import Blocking

Factory = Callable[[Path], Any]


def memory(tmp: Path) -> Any:
    return MemoryStore()


def memory_async(tmp: Path) -> Any:
    return Blocking(AsyncMemoryStore())


def sqlite(tmp: Path) -> Any:
    return SQLiteStore(tmp / "sessions.sqlite3")


def sqlite_async(tmp: Path) -> Any:
    return Blocking(AsyncSQLiteStore(tmp / "sessions.sqlite3"))


def _unique(kind: str) -> str:
    # A fresh prefix / schema per store: test runs (and parallel runs) never share keys.
    return f"swtest_{kind}_{uuid.uuid4().hex[:12]}"


def redis_sync(tmp: Path) -> Any:
    require_service("redis", redis_problem())
    from sessionward.stores.redis import RedisStore

    return RedisStore(url=REDIS_URL, prefix=_unique("redis"))


def redis_async(tmp: Path) -> Any:
    require_service("redis", redis_problem())
    from sessionward.stores.redis import AsyncRedisStore

    return Blocking(AsyncRedisStore(url=REDIS_URL, prefix=_unique("redis")))


def postgres_sync(tmp: Path) -> Any:
    require_service("postgres", postgres_problem())
    from distributed.services import DroppingPostgresStore

    return DroppingPostgresStore(POSTGRES_URL, schema=_unique("pg"))


def postgres_async(tmp: Path) -> Any:
    require_service("postgres", postgres_problem())
    from distributed.services import DroppingAsyncPostgresStore

    return Blocking(DroppingAsyncPostgresStore(POSTGRES_URL, schema=_unique("pg")))


FACTORIES: dict[str, Factory] = {
    "memory": memory,
    "memory-async": memory_async,
    "sqlite": sqlite,
    "sqlite-async": sqlite_async,
    "redis": redis_sync,
    "redis-async": redis_async,
    "postgres": postgres_sync,
    "postgres-async": postgres_async,
}
