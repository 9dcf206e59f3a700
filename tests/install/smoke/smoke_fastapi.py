"""[fastapi]: a FastAPI app logs in and out; the bearer dependency imports."""

from __future__ import annotations

import tempfile
from pathlib import Path

from _drive import asgi_call, login_logout
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from starlette.middleware import Middleware

from sessionward import AsyncSessionManager, AsyncSQLiteStore
from sessionward.integrations.asgi import SessionMiddleware
from sessionward.integrations.fastapi import BearerToken  # noqa: F401  (documented entry point)

manager = AsyncSessionManager(AsyncSQLiteStore(Path(tempfile.mkdtemp()) / "s.sqlite3"))
app = FastAPI(middleware=[Middleware(SessionMiddleware, manager=manager)])


@app.get("/", response_class=PlainTextResponse)
async def home(request: Request) -> str:
    return request.session.user_id or "anonymous"


@app.post("/login", response_class=PlainTextResponse)
async def login(request: Request) -> str:
    await request.session.login("alice")
    return "alice"


@app.post("/logout", response_class=PlainTextResponse)
async def logout(request: Request) -> str:
    await request.session.logout()
    return "bye"


login_logout(lambda method, path, cookie: asgi_call(app, method, path, cookie))
