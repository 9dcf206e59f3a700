"""Factories for every store the contract suite runs against.

Each factory returns a *synchronous-looking* store that starts empty, or calls
``require_service`` when its server is missing. Add a backend here and the whole suite runs on it.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import require_service
from distributed.services import POSTGRES_URL, REDIS_URL, postgres_problem, redis_problem
from sessionward import AsyncMemoryStore, AsyncSQLiteStore, MemoryStore, SQLiteStore
from sessionward.core.placement import MAX_BUCKETS, Placement
from sessionward.core.session_tokens import new_handle

from .adapters import Blocking

Factory = Callable[[Path], Any]

#: The suite's records are drawn in place for the largest number of buckets, so they are in
#: place for a store with any number of them (core.placement: a bucket is the low bits of one
#: number), and the others ignore it.
PLACE = Placement(MAX_BUCKETS)


def key_in(bucket: int | None = None) -> str:
    """A session key (64 hex digits), in ``bucket`` of ``PLACE`` when given."""
    key = secrets.token_hex(32)
    if bucket is None:
        return key
    head = (int(key[:8], 16) & ~(MAX_BUCKETS - 1)) | bucket
    return f"{head:08x}{key[8:]}"


def user_key(user: str | None) -> str:
    """A key for a session of ``user``: in the user's bucket (anywhere when anonymous)."""
    return key_in(None if user is None else PLACE.of_text(user))


def handle_for(key: str) -> str:
    """A handle in the bucket of ``key``."""
    return PLACE.draw(PLACE.of_key(key), new_handle, PLACE.of_text)


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


def redis_buckets(tmp: Path) -> Any:
    require_service("redis", redis_problem())
    from sessionward.stores.redis import RedisStore

    return RedisStore(url=REDIS_URL, prefix=_unique("redisb"), buckets=16)


def redis_buckets_async(tmp: Path) -> Any:
    require_service("redis", redis_problem())
    from sessionward.stores.redis import AsyncRedisStore

    return Blocking(AsyncRedisStore(url=REDIS_URL, prefix=_unique("redisb"), buckets=16))


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
    "redis-buckets": redis_buckets,
    "redis-buckets-async": redis_buckets_async,
    "postgres": postgres_sync,
    "postgres-async": postgres_async,
}
