"""Shared stores for the guard tests: a unique prefix or schema each, removed afterwards."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from conftest import require_service
from distributed.services import POSTGRES_URL, REDIS_URL, postgres_problem, redis_problem


def unique() -> str:
    return f"swtest_guard_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def shared_store() -> Iterator[Callable[[str], Any]]:
    made: list[Any] = []

    def make(backend: str) -> Any:
        if backend == "redis":
            require_service("redis", redis_problem())
            from sessionward.stores.redis import RedisStore

            store: Any = RedisStore(url=REDIS_URL, prefix=unique())
        else:
            require_service("postgres", postgres_problem())
            from distributed.services import DroppingPostgresStore

            store = DroppingPostgresStore(POSTGRES_URL, schema=unique())
        made.append(store)
        return store

    yield make
    for store in made:
        if hasattr(store, "client"):
            prefix = store._layout.tag
            for name in store.client.scan_iter(match=prefix + "*"):
                store.client.unlink(name)
        store.close()


@asynccontextmanager
async def async_shared_store(backend: str) -> AsyncIterator[Any]:
    """An async Redis or PostgreSQL store with a private prefix or schema, removed after."""
    if backend == "redis":
        require_service("redis", redis_problem())
        from sessionward.stores.redis import AsyncRedisStore

        store: Any = AsyncRedisStore(url=REDIS_URL, prefix=unique())
        try:
            yield store
        finally:
            names = [n async for n in store.client.scan_iter(match=store._layout.tag + "*")]
            if names:
                await store.client.unlink(*names)
            await store.close()
    else:
        require_service("postgres", postgres_problem())
        from distributed.services import DroppingAsyncPostgresStore

        store = DroppingAsyncPostgresStore(POSTGRES_URL, schema=unique())
        try:
            yield store
        finally:
            await store.close()
