"""Fixtures: a store configuration (env for the app processes) per backend, cleaned up after."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import require_service

from .services import POSTGRES_URL, REDIS_URL, postgres_problem, redis_problem


class Backend:
    def __init__(self, kind: str, env: dict[str, str]) -> None:
        self.kind = kind
        self.env = env

    def sync_store(self) -> Any:
        """A synchronous store over the same data, for looking behind the apps' backs."""
        if self.kind == "redis":
            from sessionward.stores.redis import RedisStore

            return RedisStore(url=self.env["SW_TARGET"], prefix=self.env["SW_NAMESPACE"])
        if self.kind == "postgres":
            from sessionward.stores.postgres import PostgresStore

            return PostgresStore(self.env["SW_TARGET"], schema=self.env["SW_NAMESPACE"])
        from sessionward import SQLiteStore

        return SQLiteStore(self.env["SW_TARGET"])


@pytest.fixture
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    kind: str = request.param
    namespace = f"swdist_{uuid.uuid4().hex[:12]}"
    env = {"SW_STORE": kind, "SW_NAMESPACE": namespace}
    if kind == "redis":
        require_service("redis", redis_problem())
        env["SW_TARGET"] = REDIS_URL
    elif kind == "postgres":
        require_service("postgres", postgres_problem())
        env["SW_TARGET"] = POSTGRES_URL
    elif kind == "sqlite":
        env["SW_TARGET"] = str(tmp_path / "sessions.sqlite3")
    backend = Backend(kind, env)
    yield backend
    if kind == "redis":
        store = backend.sync_store()
        store.delete_all()
        store.close()
    elif kind == "postgres":
        from .services import DroppingPostgresStore

        DroppingPostgresStore(POSTGRES_URL, schema=namespace).close()
