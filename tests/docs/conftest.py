"""The environment a reader of the docs is assumed to have, made real for each run.

* a fresh temporary directory per document as the working directory (SQLite files land there);
* ``REDIS_URL`` (the local Redis) and ``DATABASE_URL`` (a PostgreSQL database made for this
  run and dropped after it), which the docs read as a deployed app would;
* ``CSRF_SECRETS`` and ``SESSIONWARD_JWT_KEYS``-style secrets the docs read from the
  environment, freshly generated.

Redis and PostgreSQL are required like every service-backed test: skipped locally when absent,
a failure under CI.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import require_service
from distributed.services import POSTGRES_URL, REDIS_URL, postgres_problem, redis_problem

from .runner import Progress, start

#: Redis key prefixes the docs use; their keys are deleted after the run.
DOC_PREFIXES = ("myapp",)
COUNTS = {"ran": 0, "skipped": 0}


@pytest.fixture(scope="session")
def docs_env() -> Iterator[dict[str, str]]:
    require_service("redis", redis_problem())
    require_service("postgres", postgres_problem())
    import psycopg
    import redis
    from psycopg import sql

    from sessionward.tokens import SigningKey

    database = "sw_docs_" + secrets.token_hex(6)
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    base = POSTGRES_URL.rsplit("/", 1)[0]
    try:
        yield {
            "REDIS_URL": REDIS_URL,
            "DATABASE_URL": f"{base}/{database}",
            "CSRF_SECRETS": secrets.token_urlsafe(32),
            "SESSIONWARD_JWT_KEYS": SigningKey.generate().private_pem().decode(),
        }
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        for prefix in DOC_PREFIXES:
            for key in client.scan_iter(match="{" + prefix + "}:*", count=500):
                client.delete(key)
        client.close()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )


@pytest.fixture(scope="session")
def progress_of() -> dict[Path, Progress]:
    return {}


def progress(path: Path, cache: dict[Path, Progress], factory: pytest.TempPathFactory) -> Progress:
    if path not in cache:
        cache[path] = start(path, factory.mktemp(path.stem))
    return cache[path]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if COUNTS["ran"] or COUNTS["skipped"]:
        terminalreporter.write_line(
            f"docs: {COUNTS['ran']} Python blocks ran as written, "
            f"{COUNTS['skipped']} marked as not meant to run"
        )
