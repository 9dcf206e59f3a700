"""Where the shared test servers are, whether they answer, and test-only store subclasses."""

from __future__ import annotations

import functools
import os
import socket
from typing import Any

REDIS_URL = os.environ.get("SESSIONWARD_TEST_REDIS", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get(
    "SESSIONWARD_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)


@functools.cache
def redis_problem() -> str | None:
    try:
        import redis
    except ImportError:
        return "redis-py is not installed (pip install 'sessionward[redis]')"
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
        client.ping()
        client.close()
    except (redis.RedisError, OSError) as exc:
        return f"{REDIS_URL}: {exc}"
    return None


@functools.cache
def postgres_problem() -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install 'sessionward[postgres]')"
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"{POSTGRES_URL}: {exc}"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _pg_classes() -> tuple[Any, Any]:
    from sessionward.stores.postgres import AsyncPostgresStore, PostgresStore

    class Dropping(PostgresStore):
        """A PostgresStore whose close() drops its private schema."""

        def close(self) -> None:
            try:
                self._drive(self.plans.drop_schema(), atomic=True)
            finally:
                super().close()

    class AsyncDropping(AsyncPostgresStore):
        async def close(self) -> None:
            try:
                await self._run(self.plans.drop_schema(), atomic=True)
            finally:
                await super().close()

    return Dropping, AsyncDropping


def DroppingPostgresStore(url: str, **kwargs: Any) -> Any:
    return _pg_classes()[0](url, **kwargs)


def DroppingAsyncPostgresStore(url: str, **kwargs: Any) -> Any:
    return _pg_classes()[1](url, **kwargs)
