"""Every life-cycle event is emitted with time, user, handle or fingerprint, IP, device and
reason; never the token. A failing sink never breaks a request."""

from __future__ import annotations

import json
import logging

import pytest

from sessionward import (
    AsyncMemoryStore,
    AsyncSessionManager,
    ClientInfo,
    MemoryStore,
    SessionManager,
    SessionPolicy,
)
from sessionward.audit import AuditSink, MemoryAuditLog
from sessionward.core.events import fingerprint
from sessionward.core.session_tokens import new_token
from sessionward.integrations.asgi import SessionMiddleware
from sessionward.monitoring import Event, EventKind, LoggingSink, MemorySink, RevokeReason
from sessionward.testing import FakeClock

from .helpers import HOME, cookie_of, logged_in, visit

POLICY = SessionPolicy(idle_timeout=600, absolute_timeout=3600, touch_interval=60)


@pytest.fixture
def sink() -> MemorySink:
    return MemorySink()


@pytest.fixture
def manager(clock: FakeClock, sink: MemorySink) -> SessionManager:
    return SessionManager(MemoryStore(), policy=POLICY, clock=clock, sinks=[sink])


def last(sink: MemorySink, kind: EventKind) -> Event:
    return [e for e in sink.events if e.kind is kind][-1]


def test_session_created_login_rotation_reauth_logout(
    manager: SessionManager, sink: MemorySink, clock: FakeClock
) -> None:
    anonymous = manager.load(None, HOME)
    anonymous["cart"] = [1]
    cookie = cookie_of(manager.commit(anonymous))
    created = last(sink, EventKind.SESSION_CREATED)
    assert (created.user_id, created.ip, created.at) == (None, HOME.ip, clock.now())
    assert created.handle is not None and created.device == "Firefox 130 on Linux"
    session = manager.load(cookie, HOME)
    session.login("alice")
    login = last(sink, EventKind.LOGIN_SUCCEEDED)
    assert (login.user_id, login.handle, login.detail["previous"]) == (
        "alice",
        session.handle,
        created.handle,
    )
    session.rotate()
    assert last(sink, EventKind.ROTATED).handle == session.handle
    clock.advance(5)
    session.reauthenticate()
    reauth = last(sink, EventKind.REAUTHENTICATED)
    assert (reauth.user_id, reauth.at) == ("alice", clock.now())
    session.logout()
    assert last(sink, EventKind.LOGOUT).user_id == "alice"


def test_login_failed_is_an_application_event(manager: SessionManager, sink: MemorySink) -> None:
    manager.emit(EventKind.LOGIN_FAILED, client=HOME, reason="bad password", user_id="alice")
    failed = last(sink, EventKind.LOGIN_FAILED)
    assert (failed.user_id, failed.reason, failed.ip) == ("alice", "bad password", HOME.ip)
    assert failed.device == "Firefox 130 on Linux"


def test_expiry_idle_and_absolute(
    manager: SessionManager, sink: MemorySink, clock: FakeClock
) -> None:
    cookie = logged_in(manager)
    clock.advance(601)
    assert not visit(manager, cookie).is_authenticated
    assert last(sink, EventKind.EXPIRED_IDLE).user_id == "alice"
    cookie = logged_in(manager)
    for _ in range(7):
        clock.advance(550)
        visit(manager, cookie)
    assert last(sink, EventKind.EXPIRED_ABSOLUTE).user_id == "alice"


def test_revocations_carry_their_reason(
    clock: FakeClock, sink: MemorySink, manager: SessionManager
) -> None:
    limited = SessionManager(
        MemoryStore(),
        policy=SessionPolicy(max_sessions_per_user=1),
        clock=clock,
        sinks=[sink],
    )
    logged_in(limited)
    logged_in(limited)
    assert last(sink, EventKind.REVOKED).reason == RevokeReason.LIMIT

    mine = visit(manager, logged_in(manager))
    other = visit(manager, logged_in(manager))
    assert mine.revoke(other.handle or "")
    assert last(sink, EventKind.REVOKED).reason == RevokeReason.USER
    assert manager.revoke(mine.handle or "")
    assert last(sink, EventKind.REVOKED).reason == RevokeReason.ADMIN
    logged_in(manager, "bob")
    assert manager.revoke_user("bob") == 1
    assert last(sink, EventKind.REVOKED).user_id == "bob"
    visit(manager, logged_in(manager), ClientInfo(ip=HOME.ip, user_agent="curl/8"))
    assert last(sink, EventKind.REVOKED).reason == RevokeReason.ANOMALY


def test_unknown_and_malformed_ids_are_fingerprinted_never_logged(
    manager: SessionManager, sink: MemorySink
) -> None:
    token = new_token()
    manager.load(f"__Host-session={token}", HOME)
    manager.load("__Host-session=not-a-token", HOME)
    unknown = last(sink, EventKind.UNKNOWN_ID)
    assert unknown.detail["presented"] == fingerprint(token)
    assert last(sink, EventKind.MALFORMED_ID).reason == "shape"
    text = json.dumps([e.as_dict() for e in sink.events])
    assert token not in text and "not-a-token" not in text


def test_fingerprints_are_keyed_and_not_the_store_key_prefix() -> None:
    from sessionward.core.session_tokens import token_key

    token = new_token()
    assert not token_key(token).startswith(fingerprint(token))
    assert fingerprint(token, b"secret-a") != fingerprint(token, b"secret-b")


def test_no_event_ever_contains_the_token(manager: SessionManager, sink: MemorySink) -> None:
    session = manager.load(None, HOME)
    session.login("alice")
    token = session.token or ""
    cookie = cookie_of(manager.commit(session))
    visit(manager, cookie).rotate()
    session.logout()
    assert token and token not in json.dumps([e.as_dict() for e in sink.events])


def test_logging_sink_writes_json_lines(
    manager: SessionManager, caplog: pytest.LogCaptureFixture
) -> None:
    manager.flows.observer.sinks = (LoggingSink(),)
    with caplog.at_level(logging.INFO, logger="sessionward.audit"):
        logged_in(manager)
    line = json.loads(caplog.records[-1].getMessage())
    assert line["kind"] == "login.succeeded"
    assert line["user_id"] == "alice"
    assert line["device"] == "Firefox 130 on Linux"


class Broken:
    def __call__(self, event: Event) -> None:
        raise RuntimeError("audit database is on fire")


class BrokenLog(MemoryAuditLog):
    def append(self, event: Event) -> None:
        raise ConnectionError("audit log unreachable")


def test_a_failing_sink_never_breaks_a_request(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    good = MemorySink()
    manager = SessionManager(
        MemoryStore(), clock=clock, sinks=[Broken(), AuditSink(BrokenLog()), good]
    )
    with caplog.at_level(logging.ERROR, logger="sessionward"):
        cookie = logged_in(manager)
        assert visit(manager, cookie).is_authenticated
    assert "login.succeeded" in good.kinds()
    assert any("audit database is on fire" in r.exc_text for r in caplog.records if r.exc_text)


@pytest.mark.anyio
async def test_a_failing_sink_never_turns_an_http_request_into_a_500(clock: FakeClock) -> None:
    import httpx

    manager = AsyncSessionManager(AsyncMemoryStore(), clock=clock, sinks=[Broken()])

    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        session = scope["session"]
        await session.login("alice")  # type: ignore[attr-defined]
        await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b"ok"})  # type: ignore[operator]

    transport = httpx.ASGITransport(app=SessionMiddleware(app, manager=manager))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="https://t") as client:
        response = await client.get("/", headers={"cookie": "__Host-session=junk"})
    assert response.status_code == 200
    assert "set-cookie" in response.headers


def test_limit_rejection_and_logout_everywhere(clock: FakeClock, sink: MemorySink) -> None:
    from sessionward import SessionLimitExceeded

    strict = SessionManager(
        MemoryStore(),
        policy=SessionPolicy(max_sessions_per_user=1, on_limit="reject_new"),
        clock=clock,
        sinks=[sink],
    )
    logged_in(strict)
    with pytest.raises(SessionLimitExceeded):
        logged_in(strict)
    assert last(sink, EventKind.LIMIT_REJECTED).user_id == "alice"

    manager = SessionManager(MemoryStore(), clock=clock, sinks=[sink])
    logged_in(manager)
    here = visit(manager, logged_in(manager))
    assert here.logout_everywhere() == 2
    assert last(sink, EventKind.REVOKED).reason == RevokeReason.LOGOUT_EVERYWHERE
    assert last(sink, EventKind.LOGOUT).handle is not None
