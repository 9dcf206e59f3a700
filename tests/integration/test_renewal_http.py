"""Periodic renewal seen over HTTP through the ASGI middleware: the new cookie is sent, a request
still carrying the previous one inside the grace window succeeds and is handed the new cookie,
and after the window the previous token is dead."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sessionward import AsyncMemoryStore, AsyncSessionManager, SessionPolicy
from sessionward.integrations.asgi import SessionMiddleware
from sessionward.testing import FakeClock

pytestmark = pytest.mark.anyio
COOKIE = "__Host-session"


def make_app(clock: FakeClock) -> Starlette:
    manager = AsyncSessionManager(
        AsyncMemoryStore(),
        clock=clock,
        sinks=[],
        policy=SessionPolicy(
            idle_timeout=600, touch_interval=10, renew_interval=120, renewal_grace=15
        ),
    )

    async def login(request: Request) -> JSONResponse:
        await request.session.login("alice")  # type: ignore[attr-defined]
        return JSONResponse({"ok": True})

    async def me(request: Request) -> JSONResponse:
        session = request.session
        session["hits"] = session.get("hits", 0) + 1
        return JSONResponse({"user": session.user_id, "hits": session["hits"]})  # type: ignore[attr-defined]

    routes = [Route("/login", login, methods=["POST"]), Route("/me", me)]
    return Starlette(routes=routes, middleware=[Middleware(SessionMiddleware, manager=manager)])


def new_cookie(response: httpx.Response) -> str | None:
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name == COOKIE:
            return rest.split(";", 1)[0]
    return None


async def test_renewal_over_http_with_a_grace_window() -> None:
    clock = FakeClock()
    transport = httpx.ASGITransport(app=make_app(clock))
    async with httpx.AsyncClient(transport=transport, base_url="https://app.test") as client:
        first = new_cookie(await client.post("/login"))
        assert first is not None
        clock.advance(121)
        renewed = await client.get("/me", headers={"cookie": f"{COOKIE}={first}"})
        second = new_cookie(renewed)
        assert renewed.json() == {"user": "alice", "hits": 1}
        assert second is not None and second != first
        # A request that left the browser with the previous cookie, inside the grace window:
        clock.advance(5)
        late = await client.get("/me", headers={"cookie": f"{COOKIE}={first}"})
        assert late.json() == {"user": "alice", "hits": 2}
        assert new_cookie(late) == second
        # After the window the previous token is worthless; the new one carries on.
        clock.advance(15)
        dead = await client.get("/me", headers={"cookie": f"{COOKIE}={first}"})
        assert dead.json()["user"] is None
        alive = await client.get("/me", headers={"cookie": f"{COOKIE}={second}"})
        assert alive.json() == {"user": "alice", "hits": 3}
