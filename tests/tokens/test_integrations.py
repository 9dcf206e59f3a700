"""Bearer authentication shells: FastAPI dependency (in OpenAPI), ASGI and WSGI middleware."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI

from sessionward import StoreUnavailable
from sessionward.integrations.bearer import (
    SCOPE_KEY,
    BearerMiddleware,
    WSGIBearerMiddleware,
    bearer_token,
    challenge,
)
from sessionward.integrations.fastapi import BearerToken
from sessionward.tokens import AccessClaims, InvalidGrant, InvalidRequest, MissingToken

from .helpers import CLIENT, AsyncWorld, World

pytestmark = pytest.mark.anyio


def fastapi_app(world: AsyncWorld) -> FastAPI:
    app = FastAPI()
    bearer = BearerToken(world.tokens, realm="example")

    @app.get("/me")
    async def me(claims: AccessClaims = Depends(bearer)) -> dict[str, str]:  # noqa: B008
        return {"user": claims.subject, "session": claims.session}

    @app.get("/open")
    async def open_route() -> dict[str, str]:
        return {"ok": "yes"}

    return app


async def call(app: Any, path: str, token: str | None = None) -> httpx.Response:
    headers = {} if token is None else {"authorization": f"Bearer {token}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://api.test") as client:
        return await client.get(path, headers=headers)


async def test_fastapi_dependency_appears_in_openapi() -> None:
    app = fastapi_app(AsyncWorld())
    schema = (await call(app, "/openapi.json")).json()
    assert schema["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A sessionward access token (JWT) bound to a session.",
    }
    assert schema["paths"]["/me"]["get"]["security"] == [{"bearer": []}]
    assert "security" not in schema["paths"]["/open"]["get"]


async def test_fastapi_dependency_accepts_valid_and_refuses_with_401() -> None:
    world = AsyncWorld()
    app = fastapi_app(world)
    pair = await world.tokens.login("alice", CLIENT)
    ok = await call(app, "/me", pair.access_token)
    assert ok.json() == {"user": "alice", "session": pair.session}
    missing = await call(app, "/me")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == 'Bearer realm="example"'
    bad = await call(app, "/me", pair.access_token[:-3] + "AAA")
    assert bad.status_code == 401
    assert 'error="invalid_token"' in bad.headers["www-authenticate"]
    await world.sessions.revoke(pair.session)
    gone = await call(app, "/me", pair.access_token)
    assert gone.status_code == 401
    assert "session" in gone.headers["www-authenticate"]


class _DownStore:
    def __getattr__(self, name: str) -> Any:
        async def fail(*args: Any, **kwargs: Any) -> Any:
            raise StoreUnavailable("down")

        return fail


async def test_store_outage_is_503_not_401_or_500() -> None:
    world = AsyncWorld()
    pair = await world.tokens.login("alice", CLIENT)
    world.sessions.store = _DownStore()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("must not be reached")

    response = await call(BearerMiddleware(app, tokens=world.tokens), "/", pair.access_token)
    assert response.status_code == 503
    fastapi_response = await call(fastapi_app(world), "/me", pair.access_token)
    assert fastapi_response.status_code == 503


def run_wsgi(app: Any, authorization: str | None) -> tuple[str, dict[str, str], bytes]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/me",
        "REMOTE_ADDR": "192.0.2.1",
        "wsgi.input": io.BytesIO(),
    }
    if authorization is not None:
        environ["HTTP_AUTHORIZATION"] = authorization
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen["status"] = status
        seen["headers"] = {k.lower(): v for k, v in headers}

    body = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], body


def test_wsgi_middleware() -> None:
    world = World()

    def inner(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [environ[SCOPE_KEY].subject.encode()]

    app = WSGIBearerMiddleware(inner, tokens=world.tokens)
    pair = world.tokens.login("alice", CLIENT)
    assert run_wsgi(app, f"Bearer {pair.access_token}") == (
        "200 OK",
        {"content-type": "text/plain"},
        b"alice",
    )
    for header in (None, "Bearer", "Bearer x.y.z", "Bearer " + "a" * 9000, "bearer  \x00"):
        status, headers, _body = run_wsgi(app, header)
        assert status == "401 Unauthorized"
        assert headers["www-authenticate"].startswith('Bearer realm="api"')
        assert headers["cache-control"] == "no-store"
    world.sessions.revoke(pair.session)
    status, headers, _ = run_wsgi(app, f"Bearer {pair.access_token}")
    assert status == "401 Unauthorized" and 'error="invalid_token"' in headers["www-authenticate"]


def test_bearer_header_parsing() -> None:
    assert bearer_token("Bearer abc.def-_~+/=") == "abc.def-_~+/="
    assert bearer_token(b"bearer   abc") == "abc"
    with pytest.raises(MissingToken):
        bearer_token(None)
    with pytest.raises(MissingToken):
        bearer_token("Basic abc")
    with pytest.raises(InvalidRequest):
        bearer_token("Bearer a b")
    with pytest.raises(InvalidRequest):
        bearer_token("Bearer " + "é")


def test_challenge_formatting() -> None:
    assert challenge(None) == 'Bearer realm="api"'
    refused = challenge(InvalidGrant("reused"), realm="x")
    assert refused == (
        'Bearer realm="x", error="invalid_token", error_description="The refresh token is invalid."'
    )
    with pytest.raises(ValueError, match="realm"):
        challenge(None, realm='a"b')
