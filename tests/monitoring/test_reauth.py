"""The re-authentication helper: recent-auth check, redirect, and no open redirects."""

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
from sessionward.core.anomaly import needs_reauthentication
from sessionward.integrations.asgi import SessionMiddleware
from sessionward.integrations.reauth import SeeOther, requires_recent_auth, safe_next
from sessionward.testing import FakeClock

from .helpers import FIREFOX, logged_in, visit


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/account/password", "/account/password"),
        ("/sessions?x=1", "/sessions?x=1"),
        (None, "/"),
        ("", "/"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/ok\r\nSet-Cookie: x", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_safe_next(value: str | None, expected: str) -> None:
    assert safe_next(value) == expected


def test_needs_reauthentication_by_age_anonymity_and_mark(clock: FakeClock) -> None:
    manager = SessionManager(MemoryStore(), clock=clock, sinks=[])
    session = visit(manager, logged_in(manager))
    assert not session.needs_reauthentication(300)
    clock.advance(301)
    assert session.needs_reauthentication(300)
    session.reauthenticate()
    assert not session.needs_reauthentication(300)
    assert manager.load(None, ClientInfo()).needs_reauthentication(300)
    assert needs_reauthentication(None, 300, clock.now())
    record = session.record
    assert record is not None
    marked = record.evolve(meta={**record.meta, "reauth_required": True})
    assert needs_reauthentication(marked, 300, clock.now())


def test_reauthenticate_needs_a_logged_in_session(clock: FakeClock) -> None:
    manager = SessionManager(MemoryStore(), clock=clock, sinks=[])
    session = manager.load(None, ClientInfo())
    with pytest.raises(ValueError, match="logged-in"):
        session.reauthenticate()


@pytest.mark.anyio
async def test_decorator_redirects_stale_sessions_to_the_reauth_page(clock: FakeClock) -> None:
    manager = AsyncSessionManager(AsyncMemoryStore(), clock=clock, sinks=[])

    class Request:
        def __init__(self, scope: dict[str, Any]) -> None:
            self.scope = scope

    @requires_recent_auth(300, redirect_to="/reauth")
    async def sensitive(request: Request) -> SeeOther:
        return SeeOther("/done")

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        session = scope["session"]
        if scope["path"] == "/login":
            await session.login("alice")
            response = SeeOther("/")
        else:
            response = await sensitive(Request(scope))
        await response(scope, receive, send)

    transport = httpx.ASGITransport(app=SessionMiddleware(app, manager=manager))
    async with httpx.AsyncClient(transport=transport, base_url="https://t") as client:
        anonymous = await client.get("/pay?amount=5")
        assert anonymous.headers["location"] == "/reauth?next=/pay%3Famount%3D5"
        await client.get("/login")
        assert (await client.get("/pay")).headers["location"] == "/done"
        clock.advance(301)
        assert (await client.get("/pay")).headers["location"] == "/reauth?next=/pay"


def test_a_plain_rotation_is_not_a_fresh_authentication(clock: FakeClock) -> None:
    from sessionward.monitoring import AnomalyRules, Monitoring

    manager = SessionManager(
        MemoryStore(),
        clock=clock,
        sinks=[],
        monitoring=Monitoring(AnomalyRules(ip_change="reauthenticate")),
    )
    session = visit(manager, logged_in(manager))
    logged_in_at = session.authenticated_at
    clock.advance(301)
    session.rotate()  # e.g. a privilege change
    assert session.authenticated_at == logged_in_at
    assert session.needs_reauthentication(300)
    moved = visit(manager, logged_in(manager), ClientInfo(ip="198.51.100.1", user_agent=FIREFOX))
    assert moved.needs_reauthentication(300)
    moved.rotate()
    assert moved.needs_reauthentication(300)  # the anomaly mark survives a rotation
    assert current(moved).flags == ("ip_change",)
    moved.reauthenticate()
    assert not moved.needs_reauthentication(300)
    assert current(moved).flags == ()


def current(session: Any) -> Any:
    return next(info for info in session.sessions() if info.current)
