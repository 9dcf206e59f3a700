"""A small ASGI app the distributed tests run under real uvicorn processes.

Configured by environment variables so several processes can share one store:

* ``SW_STORE``: ``memory``, ``sqlite``, ``redis`` or ``postgres``
* ``SW_TARGET``: the SQLite path, Redis URL or PostgreSQL URL
* ``SW_NAMESPACE``: the Redis prefix or PostgreSQL schema
* ``SW_MAX_SESSIONS`` / ``SW_ON_LIMIT``: the per-user limit
* ``SW_TIMEOUT``: the store's time-outs in seconds
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from sessionward import AsyncSessionManager, SessionLimitExceeded, SessionPolicy
from sessionward.integrations.asgi import SessionMiddleware


def make_store() -> Any:
    kind = os.environ.get("SW_STORE", "memory")
    target = os.environ.get("SW_TARGET", "")
    namespace = os.environ.get("SW_NAMESPACE", "sessionward")
    timeout = float(os.environ.get("SW_TIMEOUT", "1.0"))
    if kind == "memory":
        from sessionward import AsyncMemoryStore

        return AsyncMemoryStore()
    if kind == "sqlite":
        from sessionward import AsyncSQLiteStore

        return AsyncSQLiteStore(target, busy_timeout=max(timeout, 5.0))
    if kind == "redis":
        from sessionward.stores.redis import AsyncRedisStore

        return AsyncRedisStore(
            url=target, prefix=namespace, socket_timeout=timeout, connect_timeout=timeout
        )
    if kind == "postgres":
        from sessionward.stores.postgres import AsyncPostgresStore

        return AsyncPostgresStore(
            target,
            schema=namespace,
            statement_timeout=timeout,
            pool_timeout=timeout,
            connect_timeout=timeout,
        )
    raise ValueError(f"unknown SW_STORE {kind!r}")


def make_manager() -> AsyncSessionManager:
    limit = os.environ.get("SW_MAX_SESSIONS")
    policy = SessionPolicy(
        max_sessions_per_user=int(limit) if limit else None,
        on_limit=os.environ.get("SW_ON_LIMIT", "evict_oldest"),  # type: ignore[arg-type]
    )
    return AsyncSessionManager(make_store(), policy=policy, sinks=())


_barriers: dict[str, asyncio.Barrier] = {}


async def health(request: Request) -> Response:
    return PlainTextResponse("ok")


async def login(request: Request) -> Response:
    try:
        await request.session.login(request.query_params["user"])
    except SessionLimitExceeded:
        return PlainTextResponse("limit", status_code=409)
    return PlainTextResponse(request.session.handle)


async def whoami(request: Request) -> Response:
    if not request.session.is_authenticated:
        return PlainTextResponse("anonymous", status_code=401)
    return JSONResponse({"user": request.session.user_id, "handle": request.session.handle})


async def _gather(request: Request) -> None:
    """With ``wait=N``, hold until N requests stand loaded at once."""
    wait = int(request.query_params.get("wait", "0"))
    if wait:
        name = request.query_params.get("group", "default")
        barrier = _barriers.setdefault(name, asyncio.Barrier(wait))
        async with asyncio.timeout(20):
            await barrier.wait()


async def write(request: Request) -> Response:
    """Set one key (after ``_gather``)."""
    await _gather(request)
    request.session[request.query_params["key"]] = int(request.query_params.get("value", "1"))
    return PlainTextResponse("ok")


async def data(request: Request) -> Response:
    return JSONResponse(dict(request.session))


async def logout(request: Request) -> Response:
    await _gather(request)
    await request.session.logout()
    return PlainTextResponse("bye")


async def logout_everywhere(request: Request) -> Response:
    count = await request.session.logout_everywhere()
    return PlainTextResponse(str(count))


async def revoke(request: Request) -> Response:
    ok = await request.session.revoke(request.query_params["handle"])
    return PlainTextResponse("revoked" if ok else "no", status_code=200 if ok else 404)


app = Starlette(
    routes=[
        Route("/health", health),
        Route("/login", login, methods=["POST"]),
        Route("/whoami", whoami),
        Route("/write", write, methods=["POST"]),
        Route("/data", data),
        Route("/logout", logout, methods=["POST"]),
        Route("/logout-everywhere", logout_everywhere, methods=["POST"]),
        Route("/revoke", revoke, methods=["POST"]),
    ]
)
app.add_middleware(SessionMiddleware, manager=make_manager())
