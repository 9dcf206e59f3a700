"""``sessionward.testing`` does what docs/testing.md promises, on each framework's test client."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import flask
import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from frameworks.django_settings import configure as configure_django
from sessionward import (
    AsyncMemoryStore,
    AsyncSessionManager,
    MemoryStore,
    SecretKeyRing,
    SessionManager,
    SessionPolicy,
    SQLiteStore,
)
from sessionward.integrations.asgi import SessionMiddleware
from sessionward.integrations.csrf import CSRFMiddleware
from sessionward.integrations.flask import Sessionward, current_session
from sessionward.monitoring import EventKind, MemorySink
from sessionward.testing import (
    BASE_URL,
    FakeClock,
    alog_in,
    asession_of,
    events,
    log_in,
    same_origin,
    session_of,
)

configure_django()  # the one Django configuration every test module in this process shares

from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import path  # noqa: E402

KEYS = SecretKeyRing(["helpers-secret-" * 3])


def starlette_app(manager: AsyncSessionManager) -> Starlette:
    async def me(request: Request) -> Response:
        session = request.session
        return JSONResponse({"user": session.user_id, "theme": session.get("theme")})

    async def action(request: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[Route("/me", me), Route("/action", action, methods=["POST"])],
        middleware=[
            Middleware(SessionMiddleware, manager=manager),
            Middleware(CSRFMiddleware, manager=manager, keys=KEYS),
        ],
    )


@pytest.fixture
def async_env(clock: FakeClock) -> tuple[AsyncSessionManager, MemorySink]:
    sink = MemorySink()
    manager = AsyncSessionManager(
        AsyncMemoryStore(), clock=clock, sinks=[sink], policy=SessionPolicy(idle_timeout=600)
    )
    return manager, sink


def test_starlette_test_client_logged_in_reads_and_expires(
    async_env: tuple[AsyncSessionManager, MemorySink], clock: FakeClock
) -> None:
    manager, sink = async_env
    with TestClient(starlette_app(manager), base_url=BASE_URL) as client:
        handle = log_in(client, manager, "alice", data={"theme": "dark"})
        assert client.get("/me").json() == {"user": "alice", "theme": "dark"}
        record = session_of(client, manager)
        assert record is not None and record.handle == handle and record.user_id == "alice"
        assert [e.handle for e in events(sink, EventKind.LOGIN_SUCCEEDED)] == [handle]
        clock.advance(timedelta(minutes=11))
        assert client.get("/me").json()["user"] is None
        assert events(sink, "session.expired.idle")


def test_plain_http_base_url_is_silently_anonymous(
    async_env: tuple[AsyncSessionManager, MemorySink],
) -> None:
    """Why BASE_URL exists: over http:// the Secure cookie never comes back."""
    manager, _ = async_env
    with TestClient(starlette_app(manager), base_url="http://testserver") as client:
        log_in(client, manager, "alice")
        assert client.get("/me").json()["user"] is None


def test_same_origin_headers_pass_fetch_metadata_and_cross_site_is_refused(
    async_env: tuple[AsyncSessionManager, MemorySink],
) -> None:
    manager, sink = async_env
    with TestClient(starlette_app(manager), base_url=BASE_URL) as client:
        log_in(client, manager, "alice")
        refused = client.post("/action", headers={"Origin": "https://evil.test"})
        assert refused.status_code == 403
        assert [e.reason for e in events(sink, "csrf.rejected")] == ["origin-mismatch"]
        # a same-origin request passes the origin check and then wants the session's token
        missing_token = client.post("/action", headers=same_origin())
        assert missing_token.status_code == 403
        assert events(sink, "csrf.rejected")[-1].reason != "origin-mismatch"


@pytest.mark.anyio
async def test_async_client_helpers(async_env: tuple[AsyncSessionManager, MemorySink]) -> None:
    manager, _ = async_env
    transport = httpx.ASGITransport(app=starlette_app(manager))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        assert await asession_of(client, manager) is None
        await alog_in(client, manager, "bob")
        assert (await client.get("/me")).json()["user"] == "bob"
        record = await asession_of(client, manager)
        assert record is not None and record.user_id == "bob"
        with pytest.raises(RuntimeError, match="alog_in"):
            log_in(client, manager, "bob")


def test_flask_test_client(tmp_path: Path, clock: FakeClock) -> None:
    sink = MemorySink()
    manager = SessionManager(SQLiteStore(tmp_path / "f.sqlite3"), clock=clock, sinks=[sink])
    app = flask.Flask(__name__)
    app.secret_key = "flask's own rule; sessionward does not use it"
    Sessionward(app, manager)

    @app.get("/me")
    def me() -> Any:
        return {"user": current_session().user_id}

    client = app.test_client()
    assert session_of(client, manager) is None
    log_in(client, manager, "carol")
    assert client.get("/me").json == {"user": "carol"}
    record = session_of(client, manager)
    assert record is not None and record.user_id == "carol"
    assert len(events(sink, EventKind.LOGIN_SUCCEEDED)) == 1


def django_me(request: HttpRequest) -> HttpResponse:
    user = request.sessionward.user_id  # type: ignore[attr-defined]
    return HttpResponse(json.dumps({"user": user}), content_type="application/json")


urlpatterns = [path("me", django_me)]
DJANGO_MANAGER = SessionManager(MemoryStore())


def test_django_test_client() -> None:
    with override_settings(
        ROOT_URLCONF=__name__,
        MIDDLEWARE=["sessionward.integrations.django.SessionwardMiddleware"],
        SESSIONWARD_MANAGER=f"{__name__}.DJANGO_MANAGER",
    ):
        client = Client()
        log_in(client, DJANGO_MANAGER, "dave")
        assert client.get("/me", secure=True).json() == {"user": "dave"}
        record = session_of(client, DJANGO_MANAGER)
        assert record is not None and record.user_id == "dave"


def test_fake_clock_takes_timedelta_and_refuses_to_go_back() -> None:
    clock = FakeClock(100.0)
    clock.advance(timedelta(seconds=30))
    clock.advance(0.5)
    assert clock.now() == 130.5
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)


def test_the_testing_module_lists_its_public_api() -> None:
    import sessionward.testing as testing

    public = {n for n, v in vars(testing).items() if not n.startswith("_") and callable(v)}
    public = {n for n in public if getattr(vars(testing)[n], "__module__", "") == testing.__name__}
    assert public <= set(testing.__all__)
    assert all(hasattr(testing, name) for name in testing.__all__)
