"""CSRFMiddleware works on either side of SessionMiddleware (issue 12: reading order)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import httpx
import pytest
from fastapi import FastAPI, Form
from starlette.applications import Starlette
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sessionward import AsyncMemoryStore, AsyncSessionManager, SecretKeyRing
from sessionward.errors import ConfigurationError
from sessionward.integrations.asgi import SessionMiddleware, session_of
from sessionward.integrations.csrf import CSRFMiddleware, csrf_token
from sessionward.integrations.fastapi import CSRFToken, Session
from sessionward.monitoring import MemorySink
from sessionward.testing import FakeClock

pytestmark = pytest.mark.anyio
ORIGIN = "https://app.test"
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
CROSS_SITE = {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.test"}


async def form(request: Request) -> Response:
    return JSONResponse({"token": csrf_token(request)})


async def action(request: Request) -> Response:
    data = await request.form()
    session = session_of(request)
    session["posted"] = session.get("posted", 0) + 1
    return JSONResponse({"x": data.get("x"), "posted": session["posted"]})


def starlette_app(manager: AsyncSessionManager, keys: SecretKeyRing, csrf_outside: bool) -> Any:
    app = Starlette(routes=[Route("/form", form), Route("/action", action, methods=["POST"])])
    order: list[tuple[Any, dict[str, Any]]] = [
        (SessionMiddleware, {"manager": manager}),
        (CSRFMiddleware, {"manager": manager, "keys": keys}),
    ]
    if csrf_outside:
        order.reverse()
    # add_middleware makes the last one added the outermost.
    for cls, options in reversed(order):
        app.add_middleware(cls, **options)
    return app


def fastapi_app(manager: AsyncSessionManager, keys: SecretKeyRing, csrf_outside: bool) -> Any:
    app = FastAPI()

    @app.get("/form")
    async def fastapi_form(token: CSRFToken) -> dict[str, str]:
        return {"token": token}

    @app.post("/action")
    async def fastapi_action(session: Session, x: Annotated[str, Form()]) -> dict[str, Any]:
        session["posted"] = session.get("posted", 0) + 1
        return {"x": x, "posted": session["posted"]}

    if csrf_outside:
        # Reading order, as a FastAPI user writes it: the session, then CSRF that uses it
        # (add_middleware makes the last one added the outermost).
        app.add_middleware(SessionMiddleware, manager=manager)
        app.add_middleware(CSRFMiddleware, manager=manager, keys=keys)
    else:
        app.add_middleware(CSRFMiddleware, manager=manager, keys=keys)
        app.add_middleware(SessionMiddleware, manager=manager)
    return app


Builder = Callable[[AsyncSessionManager, SecretKeyRing, bool], Any]


@pytest.fixture(params=[starlette_app, fastapi_app], ids=["starlette", "fastapi"])
def builder(request: pytest.FixtureRequest) -> Builder:
    builder: Builder = request.param
    return builder


@pytest.fixture(params=[True, False], ids=["csrf-outside", "csrf-inside"])
def csrf_outside(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def sink() -> MemorySink:
    return MemorySink()


@pytest.fixture
async def client(
    builder: Builder, csrf_outside: bool, clock: FakeClock, sink: MemorySink
) -> AsyncIterator[httpx.AsyncClient]:
    manager = AsyncSessionManager(AsyncMemoryStore(), sinks=[sink], clock=clock)
    app = builder(manager, SecretKeyRing.generate(), csrf_outside)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ORIGIN) as c:
        yield c


async def test_same_origin_form_with_token_is_accepted(client: httpx.AsyncClient) -> None:
    token = (await client.get("/form")).json()["token"]
    response = await client.post(
        "/action", data={"csrf_token": token, "x": "1"}, headers=SAME_ORIGIN
    )
    assert response.status_code == 200
    assert response.json() == {"x": "1", "posted": 1}
    # The session the form wrote is the one the next request sees.
    again = await client.post("/action", data={"csrf_token": token, "x": "2"}, headers=SAME_ORIGIN)
    assert again.json() == {"x": "2", "posted": 2}


async def test_cross_site_post_is_refused_with_an_event(
    client: httpx.AsyncClient, sink: MemorySink
) -> None:
    token = (await client.get("/form")).json()["token"]
    response = await client.post(
        "/action", data={"csrf_token": token, "x": "1"}, headers=CROSS_SITE
    )
    assert response.status_code == 403
    assert [e.kind for e in sink.events if e.kind == "csrf.rejected"] == ["csrf.rejected"]


async def test_same_origin_post_without_token_is_refused(client: httpx.AsyncClient) -> None:
    await client.get("/form")
    response = await client.post("/action", data={"x": "1"}, headers=SAME_ORIGIN)
    assert response.status_code == 403


async def test_csrf_without_any_session_middleware_fails_loudly(clock: FakeClock) -> None:
    manager = AsyncSessionManager(AsyncMemoryStore(), sinks=[], clock=clock)
    app = Starlette(routes=[Route("/action", action, methods=["POST"])])
    app.add_middleware(CSRFMiddleware, manager=manager, keys=SecretKeyRing.generate())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as c:
        with pytest.raises(ConfigurationError, match="no sessionward SessionMiddleware"):
            await c.post("/action", data={"x": "1"}, headers=SAME_ORIGIN)


async def test_a_middleware_between_may_still_refuse_the_request(clock: FakeClock) -> None:
    manager = AsyncSessionManager(AsyncMemoryStore(), sinks=[], clock=clock)
    app = Starlette(routes=[Route("/action", action, methods=["POST"])])
    # Reading order: CSRF, then a host check that answers 400 itself, then the session.
    app.add_middleware(SessionMiddleware, manager=manager)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["app.test"])
    app.add_middleware(CSRFMiddleware, manager=manager, keys=SecretKeyRing.generate())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://other.test") as c:
        response = await c.post("/action", data={"x": "1"}, headers=SAME_ORIGIN)
    assert response.status_code == 400
