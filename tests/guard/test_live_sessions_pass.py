"""Issue 9 item 6: a guessing block never refuses a live session.

One guesser behind a NAT, a corporate proxy or a proxy without a client resolver shares its
address with everyone else there. While that address is blocked, requests still have their
cookie looked up: a live session goes through; only unknown, malformed or duplicate IDs get
429, and that 429 clears the dead cookie so the next request reaches the login page.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sessionward import (
    AsyncMemoryStore,
    AsyncSessionManager,
    ClientInfo,
    MemoryStore,
    SessionManager,
)
from sessionward.core.session_tokens import new_token
from sessionward.errors import GuessingBlocked
from sessionward.integrations.asgi import SessionMiddleware
from sessionward.integrations.wsgi import WSGISessionMiddleware
from sessionward.monitoring import AnomalyRules, GuessingRule, Monitoring
from sessionward.testing import FakeClock

RULE = GuessingRule(max_failures=5, window=60, block_for=300)
NAME = "__Host-session"
OFFICE = ClientInfo(ip="192.0.2.66", user_agent="Firefox")


def _manager(clock: FakeClock) -> SessionManager:
    return SessionManager(
        MemoryStore(), clock=clock, sinks=[], monitoring=Monitoring(AnomalyRules(guessing=RULE))
    )


def _cookie(headers: list[tuple[str, str]]) -> str:
    return next(v for k, v in headers if k == "set-cookie").split(";")[0]


def _block(manager: Any) -> None:
    for _ in range(RULE.max_failures):
        manager.load(f"{NAME}={new_token()}", OFFICE)


def test_a_live_session_behind_a_blocked_address_still_loads(clock: FakeClock) -> None:
    manager = _manager(clock)
    colleague = manager.load(None, OFFICE)
    colleague.login("alice")
    cookie = _cookie(manager.commit(colleague))
    _block(manager)
    with pytest.raises(GuessingBlocked):
        manager.load(f"{NAME}={new_token()}", OFFICE)
    assert manager.load(cookie, OFFICE).user_id == "alice"


def test_the_429_for_a_dead_cookie_clears_it(clock: FakeClock) -> None:
    manager = _manager(clock)
    _block(manager)
    with pytest.raises(GuessingBlocked) as blocked:
        manager.load(f"{NAME}={new_token()}", OFFICE)
    cleared = [v for k, v in blocked.value.headers if k == "set-cookie"]
    assert len(cleared) == 1
    assert cleared[0].startswith(f"{NAME}=;") and "Max-Age=0" in cleared[0]
    # The browser drops the cookie; its next request has none and reaches the login page.
    assert manager.load(None, OFFICE).user_id is None


async def page(scope: Any, receive: Any, send: Any) -> None:
    session = scope["session"]
    body = f"user={session.user_id}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


@pytest.mark.anyio
async def test_asgi_serves_live_sessions_and_refuses_only_dead_ids(clock: FakeClock) -> None:
    manager = AsyncSessionManager(
        AsyncMemoryStore(),
        clock=clock,
        sinks=[],
        monitoring=Monitoring(AnomalyRules(guessing=RULE)),
    )
    colleague = await manager.load(None, OFFICE)
    await colleague.login("alice")
    cookie = _cookie(await manager.commit(colleague))
    for _ in range(RULE.max_failures):
        await manager.load(f"{NAME}={new_token()}", OFFICE)
    app = SessionMiddleware(page, manager=manager, client_resolver=lambda scope: OFFICE)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://test") as client:
        live = await client.get("/", headers={"cookie": cookie})
        assert (live.status_code, live.text) == (200, "user=alice")
        dead = await client.get("/", headers={"cookie": f"{NAME}={new_token()}"})
        assert dead.status_code == 429
        assert dead.headers["cache-control"] == "no-store"
        assert dead.headers["set-cookie"].startswith(f"{NAME}=;")
        assert (await client.get("/")).status_code == 200


def test_wsgi_serves_live_sessions_and_refuses_only_dead_ids(clock: FakeClock) -> None:
    manager = _manager(clock)
    colleague = manager.load(None, OFFICE)
    colleague.login("alice")
    cookie = _cookie(manager.commit(colleague))
    _block(manager)

    def app(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"user={environ['sessionward.session'].user_id}".encode()]

    wrapped = WSGISessionMiddleware(app, manager=manager)
    seen: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen.append((status, headers))

    base = {"REMOTE_ADDR": OFFICE.ip, "HTTP_USER_AGENT": OFFICE.user_agent}
    assert b"".join(wrapped({**base, "HTTP_COOKIE": cookie}, start_response)) == b"user=alice"
    assert seen[-1][0] == "200 OK"
    wrapped({**base, "HTTP_COOKIE": f"{NAME}={new_token()}"}, start_response)
    status, headers = seen[-1]
    assert status.startswith("429")
    assert any(k.lower() == "set-cookie" and v.startswith(f"{NAME}=;") for k, v in headers)
