"""[asgi]: a Starlette app with sessionward's middleware logs in and out on SQLite."""

from __future__ import annotations

import tempfile
from pathlib import Path

from _drive import asgi_call, login_logout
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from sessionward import AsyncSessionManager, AsyncSQLiteStore
from sessionward.integrations.asgi import SessionMiddleware
from sessionward.integrations.headers import SecurityHeadersMiddleware


async def home(request: Request) -> PlainTextResponse:
    return PlainTextResponse(request.session.user_id or "anonymous")


async def login(request: Request) -> PlainTextResponse:
    await request.session.login("alice")
    return PlainTextResponse("alice")


async def logout(request: Request) -> PlainTextResponse:
    await request.session.logout()
    return PlainTextResponse("bye")


manager = AsyncSessionManager(AsyncSQLiteStore(Path(tempfile.mkdtemp()) / "s.sqlite3"))
app = Starlette(
    routes=[
        Route("/", home),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
    ],
    middleware=[
        Middleware(SecurityHeadersMiddleware),
        Middleware(SessionMiddleware, manager=manager),
    ],
)
login_logout(lambda method, path, cookie: asgi_call(app, method, path, cookie))
