"""A small Starlette app with device-bound sessions, over any async store."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from conftest import require_service
from sessionward import AsyncMemoryStore, AsyncSessionManager, AsyncSQLiteStore
from sessionward.binding import BindingConfig, DeviceBinding
from sessionward.binding.asgi import DeviceBindingMiddleware
from sessionward.core.events import Event
from sessionward.core.keys import SecretKeyRing
from sessionward.testing import FakeClock

KEYS = SecretKeyRing(["device-binding-test-secret-0123456789abcdef"])
SESSION = "__Host-session"
BOUND = "__Host-bound"


def async_store(kind: str, tmp: Path, name: str | None = None, *, owner: bool = True) -> Any:
    """A fresh store; with ``name``, another instance's view of the same Redis keys or
    PostgreSQL schema (``owner=False``: closing it drops nothing)."""
    if kind == "memory":
        return AsyncMemoryStore()
    if kind == "sqlite":
        return AsyncSQLiteStore(tmp / "sessions.sqlite3")
    from distributed.services import POSTGRES_URL, REDIS_URL, postgres_problem, redis_problem

    name = name or f"swtest_dbsc_{uuid.uuid4().hex[:12]}"
    if kind == "redis":
        require_service("redis", redis_problem())
        from sessionward.stores.redis import AsyncRedisStore

        return AsyncRedisStore(url=REDIS_URL, prefix=name)
    require_service("postgres", postgres_problem())
    if not owner:
        from sessionward.stores.postgres import AsyncPostgresStore

        return AsyncPostgresStore(POSTGRES_URL, schema=name)
    from distributed.services import DroppingAsyncPostgresStore

    return DroppingAsyncPostgresStore(POSTGRES_URL, schema=name)


def make_app(
    store: Any, clock: FakeClock, events: list[Event], **config: Any
) -> tuple[Starlette, DeviceBinding]:
    manager = AsyncSessionManager(store, clock=clock, sinks=[events.append])
    binding = DeviceBinding(manager, BindingConfig(keys=KEYS, **config))

    async def login(request: Request) -> JSONResponse:
        await request.session.login(request.query_params.get("user", "alice"))  # type: ignore[attr-defined]
        return JSONResponse({"ok": True})

    async def me(request: Request) -> JSONResponse:
        return JSONResponse({"user": request.session.user_id})  # type: ignore[attr-defined]

    async def logout(request: Request) -> JSONResponse:
        await request.session.logout()  # type: ignore[attr-defined]
        return JSONResponse({"ok": True})

    async def rotate(request: Request) -> JSONResponse:
        await request.session.rotate()  # type: ignore[attr-defined]
        return JSONResponse({"ok": True})

    routes = [
        Route("/rotate", rotate, methods=["POST"]),
        Route("/login", login, methods=["POST"]),
        Route("/me", me),
        Route("/admin/panel", me),
        Route("/logout", logout, methods=["POST"]),
    ]
    middleware = [Middleware(DeviceBindingMiddleware, manager=manager, binding=binding)]
    return Starlette(routes=routes, middleware=middleware), binding
