"""DBSC end to end through the ASGI shell, driven by the spec-written client, on every store."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sessionward.core.events import Event, EventKind
from sessionward.testing import FakeClock

from .app import BOUND, SESSION, async_store, make_app
from .client import DbscClient, Key

pytestmark = pytest.mark.anyio
STORES = ["memory", "sqlite", "redis", "postgres"]


@pytest.fixture(params=STORES)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    store = async_store(request.param, tmp_path)
    try:
        yield store
    finally:
        await store.close()


def kinds(events: list[Event]) -> list[EventKind]:
    return [e.kind for e in events if e.kind.value.startswith("binding.")]


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
async def test_register_refresh_and_a_stolen_cookie_dies_with_the_bound_cookie(
    store: Any, alg: Any
) -> None:
    clock, events = FakeClock(), []
    app, _ = make_app(store, clock, events)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://app.test") as http:
        browser = DbscClient(http, clock, Key(alg))
        await browser.request("POST", "/login")
        # The login response offered registration; the client registered at once.
        assert browser.config is not None
        assert browser.config["credentials"][0]["name"] == BOUND
        assert browser.cookie(BOUND) is not None
        assert (await browser.request("GET", "/me")).json() == {"user": "alice"}

        # Malware copies every cookie; within the bound cookie's life the copy works.
        thief = DbscClient(http, clock, None, cookies=browser.stolen_cookies())
        assert (await thief.request("GET", "/me")).json() == {"user": "alice"}

        clock.advance(601)
        # Without the key the copy is worth nothing once the bound cookie has expired...
        assert (await thief.request("GET", "/me")).json() == {"user": None}
        # ...while the browser refreshes with its key and carries on.
        assert (await browser.request("GET", "/me")).json() == {"user": "alice"}
        assert browser.refreshes == 1
        # A second expiry: the challenge cached from the last refresh is signed at once.
        clock.advance(601)
        assert (await browser.request("GET", "/me")).json() == {"user": "alice"}
        assert browser.refreshes == 2
        # The thief's copies stay dead: the old bound cookie cannot be made valid again.
        assert (await thief.request("GET", "/me")).json() == {"user": None}
    seen = kinds(events)
    assert seen.count(EventKind.BINDING_REGISTERED) == 1
    assert seen.count(EventKind.BINDING_REFRESHED) == 2
    assert EventKind.BINDING_MISMATCH in seen


async def test_refresh_without_cached_challenge_asks_with_403(tmp_path: Path) -> None:
    clock, events = FakeClock(), []
    app, _ = make_app(async_store("memory", tmp_path), clock, events)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://app.test"
    ) as http:
        browser = DbscClient(http, clock, Key())
        await browser.request("POST", "/login")
        browser.challenge = None  # a browser that did not keep the registration's challenge
        clock.advance(700)
        asked = await browser._refresh_once()
        assert asked.status_code == 403
        assert browser.challenge is not None
        signed = await browser._refresh_once()
        assert signed.status_code == 200
        assert browser.cookie(BOUND) is not None
        assert (await browser.request("GET", "/me")).json() == {"user": "alice"}


async def test_logout_ends_the_binding_and_refresh_says_stop(tmp_path: Path) -> None:
    clock, events = FakeClock(), []
    app, _ = make_app(async_store("memory", tmp_path), clock, events)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://app.test"
    ) as http:
        browser = DbscClient(http, clock, Key())
        await browser.request("POST", "/login")
        config = browser.config
        response = await browser.request("POST", "/logout")
        assert browser.cookie(BOUND) is None  # expired with the session cookie
        assert any(h.startswith(f"{BOUND}=;") for h in response.headers.get_list("set-cookie"))
        browser.config = config
        stopped = await browser.refresh()
        assert stopped.status_code == 200 and stopped.json()["continue"] is False
        assert browser.config is None


async def test_unbound_sessions_still_work_and_required_paths_refuse_them(tmp_path: Path) -> None:
    clock, events = FakeClock(), []
    app, _ = make_app(async_store("memory", tmp_path), clock, events, require_paths=("/admin",))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://app.test"
    ) as http:
        plain = DbscClient(http, clock, None)  # a browser without DBSC ignores the offer
        await plain.request("POST", "/login")
        assert (await plain.request("GET", "/me")).json() == {"user": "alice"}
        refused = await plain.request("GET", "/admin/panel")
        assert refused.status_code == 403
        bound = DbscClient(http, clock, Key())
        await bound.request("POST", "/login?user=bob")
        assert (await bound.request("GET", "/admin/panel")).json() == {"user": "bob"}
    assert any(e.reason == "binding_required" for e in events)


async def test_no_raw_token_in_binding_state_or_events(tmp_path: Path) -> None:
    clock, events = FakeClock(), []
    store = async_store("memory", tmp_path)
    app, _ = make_app(store, clock, events)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://app.test"
    ) as http:
        browser = DbscClient(http, clock, Key())
        await browser.request("POST", "/login")
        token = browser.cookie(SESSION)
        assert token is not None and browser.config is not None
        assert browser.config["session_identifier"] != token
        records = await store.list_by_user("alice")
        assert token not in repr(records[0].meta)
        assert all(token not in repr(e.as_dict()) for e in events)


async def test_admin_revoke_ends_the_binding(tmp_path: Path) -> None:
    clock, events = FakeClock(), []
    app, binding = make_app(async_store("memory", tmp_path), clock, events)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://app.test"
    ) as http:
        browser = DbscClient(http, clock, Key())
        await browser.request("POST", "/login")
        assert browser.config is not None
        manager: Any = binding.manager
        assert await manager.revoke(browser.config["session_identifier"])
        clock.advance(601)
        assert (await browser.request("GET", "/me")).json() == {"user": None}
        assert browser.config is None  # the refresh answered continue: false


async def test_rotation_keeps_the_binding(tmp_path: Path) -> None:
    clock, events = FakeClock(), []
    app, _ = make_app(async_store("memory", tmp_path), clock, events)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://app.test"
    ) as http:
        browser = DbscClient(http, clock, Key())
        await browser.request("POST", "/login")
        rotated = await browser.request("POST", "/rotate")
        assert "secure-session-registration" not in rotated.headers
        clock.advance(601)
        assert (await browser.request("GET", "/me")).json() == {"user": "alice"}
        assert browser.refreshes == 1
    assert kinds(events).count(EventKind.BINDING_REGISTERED) == 1


async def test_a_thief_cannot_rebind_a_stolen_session_by_rotating_it(tmp_path: Path) -> None:
    clock, events = FakeClock(), []
    app, _ = make_app(async_store("memory", tmp_path), clock, events)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://app.test"
    ) as http:
        browser = DbscClient(http, clock, Key())
        await browser.request("POST", "/login")
        # Inside the bound cookie's life the thief triggers a rotation (any route that calls
        # rotate()) and answers whatever registration offer comes back with a key of its own.
        thief = DbscClient(http, clock, Key(), cookies=browser.stolen_cookies())
        await thief.request("POST", "/rotate")
        clock.advance(601)
        assert (await thief.request("GET", "/me")).json() == {"user": None}


@pytest.mark.parametrize("kind", ["redis", "postgres"])
async def test_bound_on_one_instance_refreshed_on_another(tmp_path: Path, kind: str) -> None:
    name = f"swtest_dbsc_{uuid.uuid4().hex[:12]}"
    first = async_store(kind, tmp_path, name)
    second = async_store(kind, tmp_path, name, owner=False)
    clock, events = FakeClock(), []
    app_a, _ = make_app(first, clock, events)
    app_b, _ = make_app(second, clock, events)
    try:
        async with (
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app_a), base_url="https://app.test"
            ) as on_a,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app_b), base_url="https://app.test"
            ) as on_b,
        ):
            browser = DbscClient(on_a, clock, Key())
            await browser.request("POST", "/login")
            assert browser.config is not None
            browser.http = on_b  # the load balancer sends the next requests elsewhere
            clock.advance(601)
            assert (await browser.request("GET", "/me")).json() == {"user": "alice"}
            assert browser.refreshes == 1
            thief = DbscClient(on_a, clock, None, cookies=browser.stolen_cookies())
            clock.advance(601)
            assert (await thief.request("GET", "/me")).json() == {"user": None}
    finally:
        await second.close()
        await first.close()
