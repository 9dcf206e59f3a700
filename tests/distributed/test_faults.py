"""Store faults: down, restarting or slow servers give 503s, never 500s or anonymous pages.

Each test starts its own redis-server or PostgreSQL on a free port and stops it; the machine's
shared servers are never touched. No timed assertions: the store time-outs only bound how long
a failing request waits, and recovery is polled a bounded number of times.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import require_service

from .harness import (
    PrivatePostgres,
    PrivateRedis,
    app_server,
    client,
    cookie_header,
    session_cookie,
)

TIMEOUT = "0.5"


async def _status(c: httpx.AsyncClient, url: str, token: str) -> int:
    return (await c.get(f"{url}/whoami", headers=cookie_header(token))).status_code


async def _until_back(c: httpx.AsyncClient, url: str, token: str) -> list[int]:
    """Poll until the session answers 200 again; every answer meanwhile must be a 503."""
    seen: list[int] = []
    for _ in range(100):
        code = await _status(c, url, token)
        seen.append(code)
        if code == 200:
            return seen
        assert code == 503, seen
        await asyncio.sleep(0.1)
    raise AssertionError(f"service did not resume: {seen}")


async def _exercise_outage(c: httpx.AsyncClient, url: str, stop: object, start: object) -> str:
    login = await c.post(f"{url}/login", params={"user": "erin"})
    assert login.status_code == 200
    token = session_cookie(login)
    assert token
    assert await _status(c, url, token) == 200

    stop()  # type: ignore[operator]
    # Fail closed: an authenticated page is neither a 500 nor served as anonymous (401).
    assert [await _status(c, url, token) for _ in range(3)] == [503, 503, 503]
    response = await c.post(f"{url}/login", params={"user": "erin"})
    assert response.status_code == 503
    assert response.headers["retry-after"]
    write = await c.post(f"{url}/write", params={"key": "k"}, headers=cookie_header(token))
    assert write.status_code == 503

    start()  # type: ignore[operator]
    await _until_back(c, url, token)
    return token


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    require_service("redis-server binary", None if shutil.which("redis-server") else "missing")
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    require_service("postgres binaries", PrivatePostgres.problem())
    server = PrivatePostgres()
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.mark.anyio
async def test_redis_down_restarting_and_slow(private_redis: PrivateRedis, tmp_path: Path) -> None:
    import redis

    env = {
        "SW_STORE": "redis",
        "SW_TARGET": private_redis.url,
        "SW_NAMESPACE": "faults",
        "SW_TIMEOUT": TIMEOUT,
    }
    with app_server(env, tmp_path / "app.log") as app:
        async with client(timeout=10) as c:
            token = await _exercise_outage(c, app.url, private_redis.stop, private_redis.start)

            # Slow: Redis stops answering clients for longer than the store's time-out.
            admin = redis.Redis(port=private_redis.port)
            admin.execute_command("CLIENT", "PAUSE", "3000", "ALL")
            try:
                assert await _status(c, app.url, token) == 503
            finally:
                admin.execute_command("CLIENT", "UNPAUSE")
                admin.close()
            await _until_back(c, app.url, token)
    assert "Traceback" not in (tmp_path / "app.log").read_text()


@pytest.mark.anyio
async def test_postgres_down_restarting_and_slow(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    import psycopg

    schema = f"faults_{uuid.uuid4().hex[:8]}"
    env = {
        "SW_STORE": "postgres",
        "SW_TARGET": private_postgres.url,
        "SW_NAMESPACE": schema,
        "SW_TIMEOUT": TIMEOUT,
    }
    with app_server(env, tmp_path / "app.log") as app:
        async with client(timeout=10) as c:
            token = await _exercise_outage(
                c, app.url, private_postgres.stop, private_postgres.start
            )

            # Slow: another transaction holds the table; the statement time-out gives up.
            with psycopg.connect(private_postgres.url) as admin:
                admin.execute(f"LOCK TABLE {schema}.sessions IN ACCESS EXCLUSIVE MODE")
                assert await _status(c, app.url, token) == 503
            await _until_back(c, app.url, token)
    assert "Traceback" not in (tmp_path / "app.log").read_text()
