"""Issue 9 item 10: no revoke (one session, a user, everyone) may delete the audit trail.

Each backend keeps its sessions and its audit log side by side under the same prefix or
schema, as a deployment does; after every kind of revoke the events written before it are
still there.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from conftest import require_service
from distributed.services import POSTGRES_URL, REDIS_URL, postgres_problem, redis_problem
from sessionward import ClientInfo, MemoryStore, SessionManager, SQLiteStore
from sessionward.monitoring import AuditSink, EventKind, MemoryAuditLog, SQLiteAuditLog
from sessionward.testing import FakeClock

Pair = tuple[Any, Any]


def _unique() -> str:
    return f"swtest_keep_{uuid.uuid4().hex[:12]}"


@contextmanager
def memory(tmp: Path) -> Iterator[Pair]:
    yield MemoryStore(), MemoryAuditLog()


@contextmanager
def sqlite(tmp: Path) -> Iterator[Pair]:
    store, log = SQLiteStore(tmp / "app.sqlite3"), SQLiteAuditLog(tmp / "app.sqlite3")
    yield store, log
    store.close()
    log.close()


@contextmanager
def redis(tmp: Path) -> Iterator[Pair]:
    require_service("redis", redis_problem())
    from sessionward.audit.redis import RedisAuditLog
    from sessionward.stores.redis import RedisStore

    prefix = _unique()
    store, log = (
        RedisStore(url=REDIS_URL, prefix=prefix),
        RedisAuditLog(url=REDIS_URL, prefix=prefix),
    )
    try:
        yield store, log
    finally:
        store.delete_all()
        log.clear()
        store.close()
        log.close()


@contextmanager
def postgres(tmp: Path) -> Iterator[Pair]:
    require_service("postgres", postgres_problem())
    import psycopg

    from sessionward.audit.postgres import PostgresAuditLog
    from sessionward.stores.postgres import PostgresStore

    schema = _unique()
    store = PostgresStore(POSTGRES_URL, schema=schema)
    log = PostgresAuditLog(POSTGRES_URL, schema=schema)
    try:
        yield store, log
    finally:
        store.close()
        log.close()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


BACKENDS: dict[str, Callable[[Path], AbstractContextManager[Pair]]] = {
    "memory": memory,
    "sqlite": sqlite,
    "redis": redis,
    "postgres": postgres,
}
HOME = ClientInfo(ip="203.0.113.9", user_agent="Firefox")


def _login(manager: SessionManager, user: str) -> Any:
    session = manager.load(None, HOME)
    session.login(user)
    manager.commit(session)
    return session


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_audit_trail_survives_every_revoke(
    backend: str, tmp_path: Path, clock: FakeClock
) -> None:
    with BACKENDS[backend](tmp_path) as (store, log):
        manager = SessionManager(store, clock=clock, sinks=[AuditSink(log)])
        alice = _login(manager, "alice")
        _login(manager, "bob")
        _login(manager, "bob")
        _login(manager, "carol")
        logins = len(log.query(kinds=[EventKind.LOGIN_SUCCEEDED]))
        assert logins == 4

        assert manager.revoke(alice.handle)
        assert len(log.query(kinds=[EventKind.LOGIN_SUCCEEDED])) == logins
        assert manager.revoke_user("bob") == 2
        assert len(log.query(kinds=[EventKind.LOGIN_SUCCEEDED])) == logins
        assert manager.revoke_all() == 1
        # Everything written before the last revoke is still there, and so is the revoke.
        assert len(log.query(kinds=[EventKind.LOGIN_SUCCEEDED])) == logins
        assert len(log.query(kinds=[EventKind.REVOKED])) == 4
        assert len(log.tail(limit=1000)) >= logins + 4
