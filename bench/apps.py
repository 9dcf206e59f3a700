"""The apps the benchmark compares, chosen by ``BENCH_APP``; run under uvicorn by bench/run.py.

Every app answers the same four routes:

* ``POST /setup``: create a session holding ``{"user": "alice"}``
* ``GET /read``: read the session (read-only workload)
* ``POST /write?k=NAME``: read the session and increment ``NAME`` (each load-generator
  connection uses its own NAME, so concurrent requests change different keys)
* ``GET /dump``: the session as JSON (to count lost updates afterwards)
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

APP = os.environ.get("BENCH_APP", "bare")
REDIS_URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
NAMESPACE = os.environ.get("BENCH_NAMESPACE", "bench")
SQLITE_PATH = os.environ.get("BENCH_SQLITE", "/tmp/sessionward-bench.sqlite3")
SECRET = "benchmark-secret-not-for-production-0123456789"

Load = Callable[[Request], Awaitable[None]]


async def _nothing(request: Request) -> None:
    return None


def build(middleware: list[Middleware], load: Load = _nothing) -> Starlette:
    async def setup(request: Request) -> Response:
        await load(request)
        if "session" in request.scope:
            request.session["user"] = "alice"
        return PlainTextResponse("ok")

    async def read(request: Request) -> Response:
        await load(request)
        user = request.session.get("user") if "session" in request.scope else "alice"
        return PlainTextResponse(str(user))

    async def write(request: Request) -> Response:
        await load(request)
        if "session" in request.scope:
            key = request.query_params.get("k", "n")
            request.session[key] = request.session.get(key, 0) + 1
        return PlainTextResponse("ok")

    async def dump(request: Request) -> Response:
        await load(request)
        return JSONResponse(dict(request.session) if "session" in request.scope else {})

    routes = [
        Route("/setup", setup, methods=["POST"]),
        Route("/read", read),
        Route("/write", write, methods=["POST"]),
        Route("/dump", dump),
    ]
    return Starlette(routes=routes, middleware=middleware)


def sessionward_app(store: Any) -> Starlette:
    from sessionward import AsyncSessionManager
    from sessionward.integrations.asgi import SessionMiddleware

    manager = AsyncSessionManager(store, sinks=())
    return build([Middleware(SessionMiddleware, manager=manager)])


def starsessions_app(store: Any) -> Starlette:
    from starsessions import SessionMiddleware, load_session

    middleware = [Middleware(SessionMiddleware, store=store, cookie_https_only=False)]
    return build(middleware, load_session)


def redis_client_app(client: str) -> Starlette:
    """sessionward-redis with another client on the per-request path (the client comparison):
    ``py`` redis-py's pooled asyncio client, ``glide`` valkey-glide (bench/redis_clients.py)."""
    from sessionward.stores.redis import AsyncRedisStore

    store = AsyncRedisStore(url=REDIS_URL, prefix=NAMESPACE, multiplex=False)
    if client == "glide":
        import redis_clients

        store._fast = redis_clients.Glide(REDIS_URL)  # type: ignore[assignment]
    return sessionward_app(store)


def make() -> Starlette:
    if APP.startswith("sessionward-redis-"):
        return redis_client_app(APP.removeprefix("sessionward-redis-"))
    if APP == "bare":
        return build([])
    if APP == "starlette-cookie":
        from starlette.middleware.sessions import SessionMiddleware

        return build([Middleware(SessionMiddleware, secret_key=SECRET, https_only=False)])
    if APP == "starsessions-memory":
        from starsessions import InMemoryStore

        return starsessions_app(InMemoryStore())
    if APP == "starsessions-redis":
        from redis.asyncio import Redis
        from starsessions.stores.redis import RedisStore

        return starsessions_app(
            RedisStore(connection=Redis.from_url(REDIS_URL), prefix=f"{NAMESPACE}.star.")
        )
    if APP == "sessionward-memory":
        from sessionward import AsyncMemoryStore

        return sessionward_app(AsyncMemoryStore())
    if APP == "sessionward-sqlite":
        from sessionward import AsyncSQLiteStore

        return sessionward_app(AsyncSQLiteStore(SQLITE_PATH))
    if APP == "sessionward-redis":
        from sessionward.stores.redis import AsyncRedisStore

        return sessionward_app(AsyncRedisStore(url=REDIS_URL, prefix=NAMESPACE))
    if APP == "sessionward-postgres":
        from sessionward.stores.postgres import AsyncPostgresStore

        return sessionward_app(AsyncPostgresStore(POSTGRES_URL, schema=NAMESPACE))
    raise SystemExit(f"unknown BENCH_APP {APP!r}")


app = make()
