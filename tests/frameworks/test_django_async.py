"""Django under ASGI: the engine's ``a*`` methods and the middleware's async path await the
async manager; the sync store is never touched (issue 11: async for real)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import AsyncClient, override_settings
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from conftest import require_service
from distributed.services import POSTGRES_URL, REDIS_URL, postgres_problem, redis_problem
from sessionward import AsyncMemoryStore, AsyncSessionManager, SessionManager
from sessionward.core.session_tokens import session_key
from sessionward.integrations.django import conf
from sessionward.testing import FakeClock

from . import django_settings  # noqa: F401  (configures Django first)

COOKIE = "__Host-session"
TOUCHED: list[str] = []


class SyncStoreThatMustNotBeTouched:
    """Every store method records its name and fails: the async path must not call them."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)

        def touched(*_: Any, **__: Any) -> Any:
            TOUCHED.append(name)
            raise AssertionError(f"sync store touched on the async path: {name}")

        return touched


def _json(request: HttpRequest, **extra: Any) -> HttpResponse:
    body = {"user": request.sessionward.user_id, **extra}  # type: ignore[attr-defined]
    return HttpResponse(json.dumps(body), content_type="application/json")


@csrf_exempt
async def write(request: HttpRequest) -> HttpResponse:
    n = await request.session.aget("n", 0) + 1
    await request.session.aset("n", n)
    return _json(request, n=n)


@csrf_exempt
async def login(request: HttpRequest) -> HttpResponse:
    # What django.contrib.auth.alogin() does to the session.
    await request.session.acycle_key()
    await request.session.aset("_auth_user_id", "alice")
    return _json(request)


@csrf_exempt
async def rotate(request: HttpRequest) -> HttpResponse:
    await request.session.acycle_key()
    return _json(request)


async def me(request: HttpRequest) -> HttpResponse:
    return _json(request, n=await request.session.aget("n"))


@csrf_exempt
async def logout(request: HttpRequest) -> HttpResponse:
    await request.session.aflush()
    return _json(request)


@csrf_exempt
def sync_login(request: HttpRequest) -> HttpResponse:
    # A sync view under ASGI calls sessionward's own API without await.
    request.sessionward.login("bob")  # type: ignore[attr-defined]
    return _json(request)


urlpatterns = [
    path("sync-login", sync_login),
    path("write", write),
    path("login", login),
    path("rotate", rotate),
    path("me", me),
    path("logout", logout),
]

AMANAGER: AsyncSessionManager | None = None


def make_sync_manager() -> SessionManager:
    return SessionManager(SyncStoreThatMustNotBeTouched(), sinks=[])  # type: ignore[arg-type]


def make_async_manager() -> AsyncSessionManager:
    if AMANAGER is None:
        raise RuntimeError("set AMANAGER first")
    return AMANAGER


@pytest.fixture
def amanager() -> Iterator[AsyncSessionManager]:
    global AMANAGER
    AMANAGER = AsyncSessionManager(AsyncMemoryStore(), sinks=[], clock=FakeClock())
    TOUCHED.clear()
    with override_settings(
        ROOT_URLCONF=__name__,
        MIDDLEWARE=["sessionward.integrations.django.SessionwardMiddleware"],
        SESSIONWARD_MANAGER=f"{__name__}.make_sync_manager",
        SESSIONWARD_ASYNC_MANAGER=f"{__name__}.make_async_manager",
    ):
        conf.reset()
        yield AMANAGER
    conf.reset()
    AMANAGER = None


def test_async_views_log_in_write_rotate_log_out_without_sync_io(
    amanager: AsyncSessionManager,
) -> None:
    async def journey() -> None:
        client = AsyncClient()
        first = await client.post("/write", secure=True)
        assert first.json() == {"user": None, "n": 1}
        anonymous = first.cookies[COOKIE].value

        login_response = await client.post("/login", secure=True)
        authed = login_response.cookies[COOKIE].value
        assert authed != anonymous
        assert await amanager.store.get(session_key(anonymous)) is None
        assert [s.current for s in await amanager.sessions_of("alice")] == [False]

        again = await client.post("/write", secure=True)
        assert again.json() == {"user": "alice", "n": 2}

        rotated = (await client.post("/rotate", secure=True)).cookies[COOKIE].value
        assert rotated not in (authed, anonymous)
        assert await amanager.store.get(session_key(authed)) is None
        assert (await client.get("/me", secure=True)).json() == {"user": "alice", "n": 2}

        out = await client.post("/logout", secure=True)
        assert "Clear-Site-Data" in out
        assert await amanager.sessions_of("alice") == []
        replay = await client.get("/me", secure=True, headers={"cookie": f"{COOKIE}={rotated}"})
        assert replay.json() == {"user": None, "n": None}

    asyncio.run(journey())
    assert TOUCHED == []


def test_engine_async_methods_await_the_async_manager(amanager: AsyncSessionManager) -> None:
    from sessionward.integrations.django.engine import SessionStore

    async def contract() -> None:
        store = SessionStore()
        await store.aset("cart", [1, 2])
        await store.asave()
        key = store.session_key
        assert key is not None and await store.aexists(key)
        loaded = SessionStore(key)
        assert await loaded.aget("cart") == [1, 2]
        await loaded.acycle_key()
        assert loaded.session_key != key and not await loaded.aexists(key)
        await loaded.aflush()
        assert loaded.session_key is None
        await SessionStore.aclear_expired()

    asyncio.run(contract())
    assert TOUCHED == []


def _store_url(kind: str, tmp_path: Path) -> tuple[str, dict[str, str]]:
    unique = f"sw-djasync-{uuid.uuid4().hex[:12]}"
    if kind == "memory":
        return "memory://", {}
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'sessions.sqlite3'}", {}
    if kind == "redis":
        require_service("redis", redis_problem())
        return REDIS_URL, {"prefix": unique}
    require_service("postgres", postgres_problem())
    return POSTGRES_URL, {"schema": unique.replace("-", "_")}


@pytest.mark.parametrize("kind", ["memory", "sqlite", "redis", "postgres"])
def test_store_url_gives_an_async_twin_over_the_same_data(kind: str, tmp_path: Path) -> None:
    url, options = _store_url(kind, tmp_path)
    with override_settings(
        ROOT_URLCONF=__name__,
        MIDDLEWARE=["sessionward.integrations.django.SessionwardMiddleware"],
        SESSIONWARD_MANAGER=None,
        SESSIONWARD_STORE=url,
        SESSIONWARD_STORE_OPTIONS=options,
        SESSIONWARD_SINKS=[],
    ):
        conf.reset()
        sync = conf.get_manager()
        ran: list[str] = []

        def no_sync_flows(flow: Any) -> Any:
            ran.append(type(flow).__name__)
            raise AssertionError("the sync manager ran a flow on the async path")

        sync._run = no_sync_flows  # type: ignore[method-assign]

        async def journey() -> str:
            client = AsyncClient()
            await client.post("/write", secure=True)
            token = (await client.post("/login", secure=True)).cookies[COOKIE].value
            assert (await client.get("/me", secure=True)).json() == {"user": "alice", "n": 1}
            twin = conf.get_async_manager()
            assert twin is not None and twin.flows.token_keys is sync.flows.token_keys
            await twin.store.close()
            return token

        try:
            token = asyncio.run(journey())
            assert ran == []
            # The sync side reads what the async side wrote (same data, same key ring).
            del sync._run
            record = sync.store.get(session_key(token))
            assert record is not None and record.user_id == "alice"
        finally:
            store: Any = sync.store
            if kind == "redis":
                store.delete_all()
            drop = getattr(getattr(store, "plans", None), "drop_schema", None)
            if drop is not None:
                store._drive(drop(), atomic=True)
            store.close()
            conf.reset()


def test_a_sync_view_under_asgi_gets_a_sync_session(tmp_path: Path) -> None:
    with override_settings(
        ROOT_URLCONF=__name__,
        MIDDLEWARE=["sessionward.integrations.django.SessionwardMiddleware"],
        SESSIONWARD_MANAGER=None,
        SESSIONWARD_STORE="memory://",
        SESSIONWARD_SINKS=[],
    ):
        conf.reset()

        async def journey() -> list[Any]:
            client = AsyncClient()
            response = await client.post("/sync-login", secure=True)
            me = await client.get("/me", secure=True)
            return [response.json()["user"], me.json()["user"]]

        try:
            assert asyncio.run(journey()) == ["bob", "bob"]
            assert [s.user_id for s in conf.get_manager().sessions_of("bob")] == ["bob"]
        finally:
            conf.reset()


def test_async_views_under_wsgi_share_the_sync_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A WSGI server runs an async view through async_to_sync, in an event loop made for that
    # one call. A store opened for such a loop would serve one request and be left to the
    # garbage collector (with PostgreSQL, a connection pool per request), so the async paths
    # take the sync manager through sync_to_async there: its connections are shared.
    from django.test import Client

    opened: list[str] = []
    real = conf.open_async_store

    def spy(url: str, **options: Any) -> Any:
        opened.append(url)
        return real(url, **options)

    monkeypatch.setattr(conf, "open_async_store", spy)
    with override_settings(
        ROOT_URLCONF=__name__,
        MIDDLEWARE=["sessionward.integrations.django.SessionwardMiddleware"],
        SESSIONWARD_MANAGER=None,
        SESSIONWARD_STORE=f"sqlite:///{tmp_path / 'sessions.sqlite3'}",
        SESSIONWARD_SINKS=[],
    ):
        conf.reset()
        try:
            client = Client()
            for n in range(1, 6):
                assert client.post("/write", secure=True).json() == {"user": None, "n": n}
            assert client.post("/login", secure=True).status_code == 200
            assert client.get("/me", secure=True).json() == {"user": "alice", "n": 5}
            assert opened == []
        finally:
            conf.get_manager().store.close()
            conf.reset()
