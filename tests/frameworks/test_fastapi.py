"""A FastAPI app written from docs/frameworks.md: log in, use the session, a form, log out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Form, Request
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request as StarletteRequest
from starlette.responses import JSONResponse
from starlette.routing import Route

from sessionward import AsyncMemoryStore, AsyncSession, AsyncSessionManager, SecretKeyRing
from sessionward.core.session_tokens import session_key
from sessionward.integrations.asgi import SessionMiddleware, add_sessionward, session_of
from sessionward.integrations.fastapi import CSRFToken, CurrentUser, RecentAuth, Session
from sessionward.integrations.reauth import requires_recent_auth
from sessionward.testing import FakeClock

pytestmark = pytest.mark.anyio
ORIGIN = "https://app.test"
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
COOKIE = "__Host-session"


def make_app(clock: FakeClock) -> tuple[FastAPI, AsyncSessionManager]:
    manager = AsyncSessionManager(AsyncMemoryStore(), sinks=[], clock=clock)
    app = FastAPI()
    add_sessionward(app, manager=manager, csrf={"keys": SecretKeyRing.generate()})

    @app.get("/form")
    async def form(token: CSRFToken) -> dict[str, str]:
        return {"csrf_token": token}

    @app.post("/login")
    async def login(session: Session, user: Annotated[str, Form()]) -> dict[str, str]:
        await session.login(user)
        return {"user": user}

    @app.post("/cart")
    async def cart(session: Session, user: CurrentUser) -> dict[str, Any]:
        session["n"] = session.get("n", 0) + 1
        return {"user": user, "n": session["n"]}

    @app.get("/me")
    async def me(user: CurrentUser) -> dict[str, str]:
        return {"user": user}

    @app.post("/password")
    async def password(
        session: Annotated[AsyncSession, Depends(RecentAuth(300))],
    ) -> dict[str, str | None]:
        return {"changed_for": session.user_id}

    @app.get("/danger")
    @requires_recent_auth(300)
    async def danger(request: Request) -> dict[str, str | None]:
        return {"user": session_of(request).user_id}

    @app.post("/logout")
    async def logout(session: Session) -> dict[str, bool]:
        await session.logout()
        return {"ok": True}

    return app, manager


@pytest.fixture
async def env() -> AsyncIterator[tuple[httpx.AsyncClient, AsyncSessionManager, FakeClock]]:
    clock = FakeClock()
    app, manager = make_app(clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
        yield client, manager, clock


async def csrf(client: httpx.AsyncClient) -> str:
    value: str = (await client.get("/form")).json()["csrf_token"]
    return value


async def test_log_in_use_the_session_protect_a_form_and_log_out(env: Any) -> None:
    client, manager, clock = env
    assert (await client.get("/me")).status_code == 401
    anonymous = await client.get("/me")
    assert anonymous.headers["WWW-Authenticate"].startswith("Cookie")
    no_token = await client.post("/login", data={"user": "alice"}, headers=SAME_ORIGIN)
    assert no_token.status_code == 403
    token = await csrf(client)
    response = await client.post(
        "/login", data={"user": "alice", "csrf_token": token}, headers=SAME_ORIGIN
    )
    assert response.json() == {"user": "alice"}
    assert len(response.headers.get_list("set-cookie")) == 1
    token = await csrf(client)
    posted = await client.post("/cart", data={"csrf_token": token}, headers=SAME_ORIGIN)
    assert posted.json() == {"user": "alice", "n": 1}
    assert (await client.get("/me")).json() == {"user": "alice"}
    changed = await client.post("/password", data={"csrf_token": token}, headers=SAME_ORIGIN)
    assert changed.json() == {"changed_for": "alice"}
    assert (await client.get("/danger")).json() == {"user": "alice"}
    clock.advance(301)
    stale = await client.post("/password", data={"csrf_token": token}, headers=SAME_ORIGIN)
    assert stale.status_code == 401 and stale.json()["detail"] == "reauthentication required"
    redirect = await client.get("/danger")
    assert redirect.status_code == 303
    assert redirect.headers["location"] == "/reauth?next=/danger"
    authed = client.cookies.get(COOKIE)
    out = await client.post("/logout", data={"csrf_token": token}, headers=SAME_ORIGIN)
    assert out.status_code == 200
    assert await manager.store.get(session_key(authed)) is None
    assert (await client.get("/me")).status_code == 401


async def test_openapi_shows_the_session_cookie_and_no_request_parameters() -> None:
    app, _ = make_app(FakeClock())
    schema = app.openapi()
    assert schema["components"]["securitySchemes"]["session"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": COOKIE,
        "description": "The sessionward session cookie (set at login).",
    }
    me = schema["paths"]["/me"]["get"]
    assert me["security"] == [{"session": []}]
    assert "parameters" not in me


async def test_requires_recent_auth_on_a_starlette_route() -> None:
    manager = AsyncSessionManager(AsyncMemoryStore(), sinks=[], clock=FakeClock())

    @requires_recent_auth(300)
    async def danger(request: StarletteRequest) -> JSONResponse:
        return JSONResponse({"ok": True})

    app = Starlette(
        routes=[Route("/danger", danger)],
        middleware=[Middleware(SessionMiddleware, manager=manager)],
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
        response = await client.get("/danger")
    assert response.status_code == 303
    assert response.headers["location"] == "/reauth?next=/danger"


async def test_session_of_names_the_fix_when_the_middleware_is_missing() -> None:
    from sessionward import ConfigurationError

    with pytest.raises(ConfigurationError, match="add_sessionward"):
        session_of({"type": "http"})


async def test_clear_ends_an_async_session_and_later_writes_start_a_new_one() -> None:
    manager = AsyncSessionManager(AsyncMemoryStore(), sinks=[], clock=FakeClock())
    app = FastAPI()
    add_sessionward(app, manager=manager)

    @app.post("/login")
    async def login(session: Session) -> dict[str, bool]:
        await session.login("alice")
        return {"ok": True}

    @app.post("/clear")
    async def clear(session: Session) -> dict[str, bool]:
        session.clear()
        session["note"] = "after clear"
        return {"ok": True}

    @app.get("/state")
    async def state(session: Session) -> dict[str, Any]:
        return {"user": session.user_id, "note": session.get("note")}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
        await client.post("/login")
        authed = client.cookies.get(COOKIE)
        response = await client.post("/clear")
        assert '"cookies"' not in response.headers["clear-site-data"]
        assert await manager.store.get(session_key(authed)) is None
        assert (await client.get("/state")).json() == {"user": None, "note": "after clear"}
