"""A CSRF token outlives renewal and dies at login and privilege change (issue 9, item 12).

Tokens used to be bound to the session's store key, which periodic renewal replaces: a form
rendered before a renewal (set off by any other request, another tab, a script) failed with 403.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sessionward import AsyncMemoryStore, AsyncSessionManager, SessionPolicy
from sessionward.integrations.asgi import SessionMiddleware
from sessionward.integrations.csrf import CSRFMiddleware
from sessionward.monitoring import MemorySink
from sessionward.testing import FakeClock

from .asgi_app import KEYS, ORIGIN, SAME_ORIGIN, action, form, login, session_of

pytestmark = pytest.mark.anyio
POLICY = SessionPolicy(renew_interval=60, renewal_grace=10)


async def rotate(request: Request) -> Response:
    await session_of(request).rotate()  # e.g. the user was just made an administrator
    return JSONResponse({})


@pytest.fixture
async def client(clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    manager = AsyncSessionManager(
        AsyncMemoryStore(), policy=POLICY, clock=clock, sinks=[MemorySink()]
    )
    routes = [
        Route("/form", form),
        Route("/action", action, methods=["POST"]),
        Route("/login", login, methods=["POST"]),
        Route("/rotate", rotate, methods=["POST"]),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SessionMiddleware, manager=manager),
            Middleware(CSRFMiddleware, manager=manager, keys=KEYS),
        ],
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ORIGIN) as c:
        yield c


async def logged_in(client: httpx.AsyncClient) -> str:
    """Log in (through the pre-session token) and return a token for the new session."""
    first = (await client.get("/form")).json()["token"]
    response = await client.post("/login", data={"csrf_token": first}, headers=SAME_ORIGIN)
    assert response.status_code == 200
    token: str = response.json()["token"]
    return token


async def post(client: httpx.AsyncClient, token: str) -> int:
    response = await client.post("/action", data={"csrf_token": token}, headers=SAME_ORIGIN)
    return response.status_code


async def test_a_form_rendered_before_a_renewal_still_submits(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    await logged_in(client)
    form_token = (await client.get("/form")).json()["token"]
    before = client.cookies.get("__Host-session")
    clock.advance(61)
    await client.get("/form")  # another tab's request renews the session
    assert client.cookies.get("__Host-session") != before
    assert await post(client, form_token) == 200


async def test_tokens_from_before_login_die_at_login(client: httpx.AsyncClient) -> None:
    anonymous = (await client.get("/form")).json()["token"]
    assert await post(client, anonymous) == 200  # the anonymous session now has a record
    bound = (await client.get("/form")).json()["token"]
    assert await post(client, bound) == 200
    await client.post("/login", data={"csrf_token": bound}, headers=SAME_ORIGIN)
    assert await post(client, bound) == 403


async def test_tokens_die_at_a_privilege_change(client: httpx.AsyncClient) -> None:
    token = await logged_in(client)
    assert await post(client, token) == 200
    response = await client.post("/rotate", data={"csrf_token": token}, headers=SAME_ORIGIN)
    assert response.status_code == 200
    assert await post(client, token) == 403
    fresh = (await client.get("/form")).json()["token"]
    assert await post(client, fresh) == 200


async def test_a_tossed_presession_cookie_is_not_used_and_is_recorded(clock: FakeClock) -> None:
    from sessionward.monitoring import EventKind

    from .asgi_app import build

    sink = MemorySink()
    app = build(clock, sink)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ORIGIN) as c:
        page = await c.get("/form")
        value = page.cookies["__Host-csrf"]
        token = page.json()["token"]
        c.cookies.clear()
        tossed = {**SAME_ORIGIN, "cookie": f"\xa0__Host-csrf={value}".encode("latin-1")}
        response = await c.post("/login", data={"csrf_token": token}, headers=tossed)
        assert response.status_code == 403
    events = [e for e in sink.events if e.reason == "cookie_tossing"]
    assert [(e.kind, e.detail["cookie"]) for e in events] == [
        (EventKind.MALFORMED_ID, "__Host-csrf")
    ]
