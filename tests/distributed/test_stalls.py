"""A stalled shared store: every request ends within the store's deadline, with a 503.

A proxy of our own (loopback, a free port) stands between the app process and the shared
Redis or PostgreSQL and stops forwarding, as a SIGSTOPped server or a silent network would.
PostgreSQL's ``statement_timeout`` cannot help there (the server is not running); the
client-side deadline must. The stall lasts until the test has its answers, so a request that
were not bounded by the deadline would not end at all (the HTTP client gives up at 15 s).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from conftest import require_service

from .harness import app_server, client, cookie_header, session_cookie
from .proxy import StallingProxy
from .services import POSTGRES_URL, REDIS_URL, postgres_problem, redis_problem

TIMEOUT = 0.5
# The longest a request may wait in a stall: a pool wait and one call's deadline
# (statement_timeout + 0.5 s on PostgreSQL, socket_timeout on Redis), with room for a
# machine shared by many test runs. Far below the stall, which never ends by itself.
BOUND = 6.0


@pytest.fixture
async def proxy(request: pytest.FixtureRequest) -> AsyncIterator[tuple[StallingProxy, str]]:
    kind: str = request.param
    if kind == "redis":
        require_service("Redis", redis_problem())
        url = REDIS_URL
    else:
        require_service("PostgreSQL", postgres_problem())
        url = POSTGRES_URL
    parts = urlsplit(url)
    proxy = StallingProxy(parts.port or (6379 if kind == "redis" else 5432))
    await proxy.start()
    user = f"{parts.username}@" if parts.username else ""
    try:
        yield proxy, parts._replace(netloc=f"{user}127.0.0.1:{proxy.port}").geturl()
    finally:
        await proxy.close()


async def _timed(c: httpx.AsyncClient, method: str, url: str, **kw: object) -> tuple[int, float]:
    started = time.monotonic()
    response = await c.request(method, url, **kw)  # type: ignore[arg-type]
    return response.status_code, time.monotonic() - started


@pytest.mark.anyio
@pytest.mark.parametrize("proxy", ["postgres", "redis"], indirect=True)
async def test_stalled_store_answers_503_within_the_deadline(
    proxy: tuple[StallingProxy, str], tmp_path: Path
) -> None:
    stalling, target = proxy
    kind = "postgres" if target.startswith("postgres") else "redis"
    env = {
        "SW_STORE": kind,
        "SW_TARGET": target,
        "SW_NAMESPACE": f"stall_{uuid.uuid4().hex[:10]}",
        "SW_TIMEOUT": str(TIMEOUT),
    }
    log = tmp_path / "app.log"
    with app_server(env, log) as app:
        async with client(timeout=15) as c:
            login = await c.post(f"{app.url}/login", params={"user": "stella"})
            assert login.status_code == 200
            token = session_cookie(login)
            assert token
            auth = cookie_header(token)

            stalling.stall()
            try:
                answers = await asyncio.gather(
                    *[_timed(c, "GET", f"{app.url}/whoami", headers=auth) for _ in range(6)],
                    _timed(c, "POST", f"{app.url}/login", params={"user": "sam"}),
                    _timed(c, "POST", f"{app.url}/write", params={"key": "k"}, headers=auth),
                    _timed(c, "POST", f"{app.url}/logout", headers=auth),
                )
            finally:
                stalling.resume()
            assert [code for code, _ in answers] == [503] * len(answers), answers
            assert max(took for _, took in answers) < BOUND, answers

            # The server woke up: service resumes (polled a bounded number of times).
            seen = []
            for _ in range(50):
                code = (await c.get(f"{app.url}/whoami", headers=auth)).status_code
                seen.append(code)
                if code != 503:
                    break
                await asyncio.sleep(0.1)
            # The logout may have been applied after all (an ambiguous 503): either answer
            # is a true one, a 500 never is.
            assert seen[-1] in (200, 401), seen
    _drop(kind, env["SW_NAMESPACE"])
    assert "Traceback" not in log.read_text()


def _drop(kind: str, namespace: str) -> None:
    if kind == "postgres":
        import psycopg

        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {namespace} CASCADE")
        return
    import redis

    admin = redis.Redis.from_url(REDIS_URL)
    for key in admin.scan_iter(match=f"{namespace}*", count=500):
        admin.delete(key)
    admin.close()


@pytest.mark.anyio
@pytest.mark.parametrize("proxy", ["postgres"], indirect=True)
async def test_stalled_postgres_bounds_sync_sessions_tokens_and_audit(
    proxy: tuple[StallingProxy, str],
) -> None:
    """The synchronous backends share the deadline (a watchdog thread cuts the connection)."""
    from sessionward.audit.postgres import PostgresAuditLog
    from sessionward.errors import StoreUnavailable
    from sessionward.stores.postgres import PostgresStore
    from sessionward.tokens.postgres import PostgresTokenStore

    stalling, target = proxy
    schema = f"stall_{uuid.uuid4().hex[:10]}"
    options = {"schema": schema, "statement_timeout": TIMEOUT, "pool_timeout": TIMEOUT}
    sessions = await asyncio.to_thread(PostgresStore, target, **options)
    tokens = await asyncio.to_thread(PostgresTokenStore, target, **options)
    audit = await asyncio.to_thread(PostgresAuditLog, target, **options)
    calls = [
        lambda: sessions.get("k"),
        lambda: tokens.revocations(0.0),
        lambda: audit.tail(),
    ]
    try:
        stalling.stall()
        try:
            for call in calls:
                started = time.monotonic()
                with pytest.raises(StoreUnavailable):
                    await asyncio.to_thread(call)
                assert time.monotonic() - started < BOUND
        finally:
            stalling.resume()
    finally:
        sessions.close()
        tokens.close()
        audit.close()
        _drop("postgres", schema)


def test_a_connection_the_server_closed_is_replaced_not_failed() -> None:
    """After a restart (here: the server ends every backend of the pool), the next call works."""
    require_service("PostgreSQL", postgres_problem())
    import psycopg

    from sessionward.stores.postgres import PostgresStore

    schema = f"stall_{uuid.uuid4().hex[:10]}"
    store = PostgresStore(POSTGRES_URL, schema=schema, min_size=2, max_size=2, purge_interval=None)
    try:
        store.get("warm")
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            ended = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name "
                "= '' AND pid <> pg_backend_pid() AND query LIKE %s",
                ("%" + schema + "%",),
            ).fetchall()
        assert ended  # the pool's connection that ran the query above
        for _ in range(3):
            assert store.get("warm") is None  # no 503: the closed connection was not used
    finally:
        store.close()
        _drop("postgres", schema)
