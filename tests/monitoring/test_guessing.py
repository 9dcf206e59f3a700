"""ID guessing: a client presenting many forged IDs is throttled with 429; others, and live
sessions behind the same address, are not."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sessionward import (
    AsyncMemoryStore,
    AsyncSessionManager,
    ClientInfo,
    ConfigurationError,
    MemoryStore,
    SessionManager,
)
from sessionward.core.anomaly import GuessingGuard
from sessionward.core.session_tokens import new_token
from sessionward.integrations.asgi import SessionMiddleware
from sessionward.integrations.wsgi import WSGISessionMiddleware
from sessionward.monitoring import AnomalyRules, EventKind, GuessingRule, MemorySink, Monitoring
from sessionward.testing import FakeClock

from .helpers import logged_in, visit

RULE = GuessingRule(max_failures=5, window=60, block_for=300, max_clients=100)
NAME = "__Host-session"
JUNK = f"{NAME}=junk"


def guard(clock: FakeClock, **overrides: Any) -> GuessingGuard:
    settings = {"max_failures": 3, "window": 60.0, "block_for": 100.0, "max_clients": 10}
    settings.update(overrides)
    return GuessingGuard(GuessingRule(**settings), clock)


def test_default_rule_values() -> None:
    rule = GuessingRule()
    assert (rule.max_failures, rule.window, rule.block_for) == (20, 60.0, 300.0)
    assert rule.max_clients == 10_000


def test_block_starts_once_at_the_threshold_and_ends(clock: FakeClock) -> None:
    g = guard(clock)
    assert [g.failure("192.0.2.1") for _ in range(5)] == [False, False, True, False, False]
    assert g.retry_after("192.0.2.1") == 100.0
    assert g.retry_after("192.0.2.2") is None
    clock.advance(100)
    assert g.retry_after("192.0.2.1") is None
    assert g.failure("192.0.2.1") is False


def test_failures_spread_beyond_the_window_do_not_block(clock: FakeClock) -> None:
    g = guard(clock)
    for _ in range(10):
        assert g.failure("192.0.2.1") is False
        clock.advance(31)
    assert g.retry_after("192.0.2.1") is None


def test_memory_is_bounded_under_a_flood_of_addresses(clock: FakeClock) -> None:
    g = guard(clock, max_clients=10)
    for i in range(1000):
        g.failure(f"10.0.{i // 256}.{i % 256}")
    assert len(g) == 10


def test_ipv6_clients_are_counted_per_prefix(clock: FakeClock) -> None:
    g = guard(clock)
    g.failure("2001:db8:1:2::1")
    g.failure("2001:db8:1:2::2")
    assert g.failure("2001:db8:1:2:ffff::3") is True
    assert g.retry_after("2001:db8:1:2::99") is not None
    assert g.retry_after("2001:db8:1:3::1") is None


def test_requests_without_an_address_are_never_blocked(clock: FakeClock) -> None:
    g = guard(clock, max_failures=1)
    assert g.failure(None) is False
    assert g.retry_after(None) is None


def test_manager_counts_unknown_and_malformed_ids_and_emits_one_event(clock: FakeClock) -> None:
    sink = MemorySink()
    manager = SessionManager(
        MemoryStore(), clock=clock, sinks=[sink], monitoring=Monitoring(AnomalyRules(guessing=RULE))
    )
    guesser = ClientInfo(ip="192.0.2.66", user_agent="bot")
    for i in range(RULE.max_failures + 3):
        value = new_token() if i % 2 else "junk"
        manager.load(f"{NAME}={value}", guesser)
    throttles = [e for e in sink.events if e.kind is EventKind.ANOMALY]
    assert len(throttles) == 1
    assert throttles[0].reason == "guessing"
    assert throttles[0].ip == "192.0.2.66"
    assert manager.retry_after(guesser, JUNK) == RULE.block_for
    assert manager.retry_after(ClientInfo(ip="192.0.2.67"), JUNK) is None
    kinds = {e.kind for e in sink.events}
    assert {EventKind.UNKNOWN_ID, EventKind.MALFORMED_ID} <= kinds


def test_valid_sessions_do_not_count(clock: FakeClock) -> None:
    manager = SessionManager(
        MemoryStore(), clock=clock, sinks=[], monitoring=Monitoring(AnomalyRules(guessing=RULE))
    )
    cookie = logged_in(manager)
    for _ in range(RULE.max_failures * 2):
        assert visit(manager, cookie).is_authenticated
    assert manager.retry_after(ClientInfo(ip="203.0.113.9"), JUNK) is None


def test_guessing_can_be_switched_off(clock: FakeClock) -> None:
    manager = SessionManager(
        MemoryStore(), clock=clock, sinks=[], monitoring=Monitoring(AnomalyRules(guessing=None))
    )
    guesser = ClientInfo(ip="192.0.2.66")
    for _ in range(100):
        manager.load(f"{NAME}={new_token()}", guesser)
    assert manager.retry_after(guesser, JUNK) is None


async def hello(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello"})


@pytest.mark.anyio
async def test_asgi_middleware_answers_429_to_the_guesser_only(clock: FakeClock) -> None:
    sink = MemorySink()
    manager = AsyncSessionManager(
        AsyncMemoryStore(),
        clock=clock,
        sinks=[sink],
        monitoring=Monitoring(AnomalyRules(guessing=RULE)),
    )
    guesser_ip = {"value": "192.0.2.66"}

    def resolver(scope: Any) -> ClientInfo:
        return ClientInfo(ip=guesser_ip["value"], user_agent="bot")

    app = SessionMiddleware(hello, manager=manager, client_resolver=resolver)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://test") as client:
        statuses = []
        for _ in range(RULE.max_failures + 2):
            r = await client.get("/", headers={"cookie": f"{NAME}={new_token()}"})
            statuses.append(r.status_code)
        assert statuses == [200] * RULE.max_failures + [429, 429]
        assert r.headers["retry-after"] == "300"
        guesser_ip["value"] = "192.0.2.99"
        assert (await client.get("/", headers={"cookie": f"{NAME}={new_token()}"})).is_success
    assert [e.reason for e in sink.events if e.kind is EventKind.ANOMALY] == ["guessing"]
    clock.advance(RULE.block_for)
    guesser_ip["value"] = "192.0.2.66"
    async with httpx.AsyncClient(transport=transport, base_url="https://test") as client:
        assert (await client.get("/")).status_code == 200


def test_wsgi_middleware_answers_429_to_the_guesser(clock: FakeClock) -> None:
    manager = SessionManager(
        MemoryStore(), clock=clock, sinks=[], monitoring=Monitoring(AnomalyRules(guessing=RULE))
    )

    def app(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"hello"]

    wrapped = WSGISessionMiddleware(app, manager=manager)
    seen: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen.append(status)
        return None

    for _ in range(RULE.max_failures + 1):
        environ = {"REMOTE_ADDR": "192.0.2.66", "HTTP_COOKIE": f"{NAME}={new_token()}"}
        body = wrapped(environ, start_response)
    assert seen[-1].startswith("429")
    assert b"".join(body).startswith(b"Too many")
    assert seen[:-1] == ["200 OK"] * RULE.max_failures


@pytest.mark.anyio
async def test_a_blocked_client_cannot_open_websockets_either(clock: FakeClock) -> None:
    manager = AsyncSessionManager(
        AsyncMemoryStore(),
        clock=clock,
        sinks=[],
        monitoring=Monitoring(AnomalyRules(guessing=RULE)),
    )
    guesser = ClientInfo(ip="192.0.2.66")
    for _ in range(RULE.max_failures):
        await manager.load(f"{NAME}={new_token()}", guesser)
    reached: list[bool] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(True)

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    middleware = SessionMiddleware(app, manager=manager, client_resolver=lambda scope: guesser)
    scope = {"type": "websocket", "headers": [(b"cookie", JUNK.encode())]}
    await middleware(scope, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1008}]
    assert reached == []


def test_a_stale_cookie_repeated_on_every_request_is_not_guessing(clock: FakeClock) -> None:
    """A browser whose session was revoked or expired keeps sending the dead cookie with every
    page and asset; that is one value, counted once, and never locks its user out."""
    manager = SessionManager(
        MemoryStore(), clock=clock, sinks=[], monitoring=Monitoring(AnomalyRules(guessing=RULE))
    )
    browser = ClientInfo(ip="198.51.100.5", user_agent="Firefox")
    dead = f"{NAME}={new_token()}"
    for _ in range(RULE.max_failures * 10):
        assert manager.load(dead, browser).user_id is None
    assert manager.retry_after(browser, dead) is None


def test_a_blocked_address_can_still_reach_pages_without_a_session_cookie(
    clock: FakeClock,
) -> None:
    manager = SessionManager(
        MemoryStore(), clock=clock, sinks=[], monitoring=Monitoring(AnomalyRules(guessing=RULE))
    )
    office = ClientInfo(ip="192.0.2.66")
    for _ in range(RULE.max_failures):
        manager.load(f"{NAME}={new_token()}", office)
    assert manager.retry_after(office, JUNK) == RULE.block_for
    assert manager.retry_after(office, None) is None
    assert manager.retry_after(office, "theme=dark") is None


def test_a_rule_beyond_what_the_counters_can_count_is_refused_at_start_up() -> None:
    with pytest.raises(ConfigurationError, match="max_failures"):
        GuessingRule(max_failures=5000)
