"""Bearer-token APIs and exemption patterns under CSRF (issue 9, item 13).

A request with no cookie at all that authenticates with ``Authorization: Bearer`` has no ambient
credential for a cross-site page to ride on: it is not a CSRF target. Exemptions take exact
paths, ``{name}`` route patterns and ``/prefix/*``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sessionward import AsyncMemoryStore, AsyncSessionManager, MemoryStore, SessionManager
from sessionward.core.csrf_exempt import is_cookieless_bearer, parse_exempt
from sessionward.integrations.asgi import SessionMiddleware
from sessionward.integrations.csrf import CSRFMiddleware, WSGICSRFMiddleware
from sessionward.integrations.wsgi import WSGISessionMiddleware
from sessionward.testing import FakeClock

from .asgi_app import KEYS, ORIGIN

HOSTILE = {"sec-fetch-site": "cross-site", "origin": "https://evil.test"}
BEARER = {"authorization": "Bearer eyJhbGciOiJFUzI1NiJ9.e30.c2ln"}


async def item(request: Request) -> Response:
    return JSONResponse({"item": request.path_params.get("item_id")})


def asgi_client(exempt: Iterable[str] = ()) -> httpx.AsyncClient:
    manager = AsyncSessionManager(AsyncMemoryStore(), clock=FakeClock(), sinks=[])
    routes = [
        Route("/api/items/{item_id}", item, methods=["POST", "DELETE"]),
        Route("/hooks/{rest:path}", item, methods=["POST"]),
        Route("/account/{item_id}", item, methods=["POST"]),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SessionMiddleware, manager=manager),
            Middleware(CSRFMiddleware, manager=manager, keys=KEYS, exempt=list(exempt)),
        ],
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ORIGIN)


@pytest.mark.anyio
async def test_a_cookieless_bearer_post_to_a_route_with_a_parameter_passes() -> None:
    async with asgi_client() as client:
        response = await client.post("/api/items/42", headers={**HOSTILE, **BEARER})
        assert response.status_code == 200
        assert response.json() == {"item": "42"}
        assert (await client.delete("/api/items/42", headers=BEARER)).status_code == 200


@pytest.mark.anyio
async def test_a_bearer_request_that_also_carries_a_cookie_is_still_checked() -> None:
    async with asgi_client() as client:
        headers = {**HOSTILE, **BEARER, "cookie": "theme=dark"}
        assert (await client.post("/api/items/42", headers=headers)).status_code == 403
        basic = {**HOSTILE, "authorization": "Basic YWxpY2U6cHc="}  # browsers replay Basic
        assert (await client.post("/api/items/42", headers=basic)).status_code == 403
        empty = {**HOSTILE, "authorization": "Bearer "}
        assert (await client.post("/api/items/42", headers=empty)).status_code == 403


@pytest.mark.anyio
async def test_route_patterns_and_prefixes_can_be_exempted() -> None:
    async with asgi_client(["/api/items/{item_id}", "/hooks/*"]) as client:
        assert (await client.post("/api/items/7", headers=HOSTILE)).status_code == 200
        assert (await client.post("/hooks/stripe/v2", headers=HOSTILE)).status_code == 200
        assert (await client.post("/account/7", headers=HOSTILE)).status_code == 403


def test_exemption_syntax() -> None:
    exempt = parse_exempt(["/webhooks/stripe", "/api/items/{item_id}", "/hooks/*"])
    assert "/webhooks/stripe" in exempt
    assert "/webhooks/stripe/x" not in exempt
    assert "/api/items/1" in exempt
    assert "/api/items/" not in exempt
    assert "/api/items/1/delete" not in exempt
    assert "/hooks/a" in exempt and "/hooks/a/b" in exempt
    assert "/hooks" not in exempt and "/hooksy" not in exempt
    dots = parse_exempt(["/v1.0/{x}"])
    assert "/v1.0/a" in dots and "/v1x0/a" not in dots


@pytest.mark.parametrize(
    ("cookie", "authorization", "expected"),
    [
        (None, "Bearer abc.def-ghi_jkl~", True),
        (None, "bearer abc", True),
        (b"", "Bearer abc", True),
        ("a=1", "Bearer abc", False),
        (None, "Bearer", False),
        (None, "Bearer a b", False),
        (None, "Basic abc", False),
        (None, None, False),
        (None, "Bearer " + "a" * 10_000, False),
    ],
)
def test_what_counts_as_a_cookieless_bearer_request(
    cookie: str | bytes | None, authorization: str | None, expected: bool
) -> None:
    assert is_cookieless_bearer(cookie, authorization) is expected


def _wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def test_the_wsgi_twin_follows_the_same_rules() -> None:
    manager = SessionManager(MemoryStore(), clock=FakeClock(), sinks=[])
    app = WSGISessionMiddleware(
        WSGICSRFMiddleware(_wsgi_app, manager=manager, keys=KEYS, exempt=["/hooks/{name}"]),
        manager=manager,
    )
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url=ORIGIN) as client:
        assert client.post("/api/items/1", headers={**HOSTILE, **BEARER}).status_code == 200
        cookie = {**HOSTILE, **BEARER, "cookie": "a=1"}
        assert client.post("/api/items/1", headers=cookie).status_code == 403
        assert client.post("/hooks/github", headers=HOSTILE).status_code == 200
        assert client.post("/hooks/github/x", headers=HOSTILE).status_code == 403
