"""Audit logs to run the audit contract against; each starts empty and is removed after."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conftest import require_service
from distributed.services import POSTGRES_URL, REDIS_URL, postgres_problem, redis_problem
from sessionward.audit import MemoryAuditLog, SQLiteAuditLog


def unique(kind: str) -> str:
    return f"swtest_{kind}_{uuid.uuid4().hex[:12]}"


@contextmanager
def memory(tmp: Path) -> Iterator[Any]:
    yield MemoryAuditLog()


@contextmanager
def sqlite(tmp: Path) -> Iterator[Any]:
    log = SQLiteAuditLog(tmp / "audit.sqlite3")
    yield log
    log.close()


@contextmanager
def redis(tmp: Path) -> Iterator[Any]:
    require_service("redis", redis_problem())
    from sessionward.audit.redis import RedisAuditLog

    log = RedisAuditLog(url=REDIS_URL, prefix=unique("audit"))
    try:
        yield log
    finally:
        log.clear()
        log.close()


@contextmanager
def postgres(tmp: Path) -> Iterator[Any]:
    require_service("postgres", postgres_problem())
    import psycopg

    from sessionward.audit.postgres import PostgresAuditLog

    schema = unique("audit")
    log = PostgresAuditLog(POSTGRES_URL, schema=schema)
    try:
        yield log
    finally:
        log.close()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


BACKENDS: dict[str, Callable[[Path], Any]] = {
    "memory": memory,
    "sqlite": sqlite,
    "redis": redis,
    "postgres": postgres,
}
