"""Session life cycle through the synchronous manager (the async twin runs the same flows)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from sessionward import (
    ClientInfo,
    MemoryStore,
    SessionDataError,
    SessionLimitExceeded,
    SessionManager,
    SessionPolicy,
)
from sessionward.core.session_tokens import session_key
from sessionward.monitoring import Event, EventKind, MemorySink
from sessionward.testing import FakeClock

CLIENT = ClientInfo(ip="203.0.113.9", user_agent="TestBrowser/1.0")


class CountingStore:
    """Wraps a store and counts calls by method name."""

    def __init__(self, store: Any) -> None:
        self.inner = store
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return method(*args, **kwargs)

        return call


@pytest.fixture
def sink() -> MemorySink:
    return MemorySink()


@pytest.fixture
def store() -> CountingStore:
    return CountingStore(MemoryStore())


@pytest.fixture
def manager(store: CountingStore, clock: FakeClock, sink: MemorySink) -> SessionManager:
    policy = SessionPolicy(idle_timeout=600, absolute_timeout=3600, touch_interval=60)
    return SessionManager(store, policy=policy, clock=clock, sinks=[sink])  # type: ignore[arg-type]


def cookie_of(headers: list[tuple[str, str]]) -> str:
    values = [v for k, v in headers if k == "set-cookie"]
    assert len(values) == 1
    return values[0].split(";")[0]


def test_a_request_without_cookie_or_writes_costs_nothing(
    manager: SessionManager, store: CountingStore
) -> None:
    session = manager.load(None, CLIENT)
    assert manager.commit(session) == []
    assert store.calls == []


def test_reading_an_empty_session_sets_no_cookie_but_marks_no_store(
    manager: SessionManager, store: CountingStore
) -> None:
    session = manager.load(None, CLIENT)
    assert session.get("x") is None
    headers = manager.commit(session)
    assert ("cache-control", "no-store") in headers
    assert not [h for h in headers if h[0] == "set-cookie"]
    assert store.calls == []


def test_write_creates_then_read_only_requests_cost_one_get(
    manager: SessionManager, store: CountingStore, clock: FakeClock
) -> None:
    first = manager.load(None, CLIENT)
    first["n"] = 1
    cookie = cookie_of(manager.commit(first))
    store.calls.clear()
    for _ in range(5):
        clock.advance(5)
        s = manager.load(cookie, CLIENT)
        assert s["n"] == 1
        assert manager.commit(s) == [("cache-control", "no-store"), ("vary", "Cookie")]
    assert store.calls == ["get"] * 5


def test_last_seen_writes_are_throttled_and_refresh_the_cookie(
    manager: SessionManager, store: CountingStore, clock: FakeClock
) -> None:
    s = manager.load(None, CLIENT)
    s["n"] = 1
    cookie = cookie_of(manager.commit(s))
    store.calls.clear()
    clock.advance(61)
    s = manager.load(cookie, CLIENT)
    headers = manager.commit(s)
    assert store.calls == ["get", "update"]
    assert "Max-Age=600" in cookie_of_full(headers)


def cookie_of_full(headers: list[tuple[str, str]]) -> str:
    return next(v for k, v in headers if k == "set-cookie")


def test_login_issues_a_new_token_and_the_old_one_dies(
    manager: SessionManager, store: CountingStore
) -> None:
    s = manager.load(None, CLIENT)
    s["cart"] = ["book"]
    anon = cookie_of(manager.commit(s))
    s = manager.load(anon, CLIENT)
    s.login("alice")
    authed = cookie_of(manager.commit(s))
    assert authed != anon
    assert store.inner.get(session_key(anon.split("=", 1)[1])) is None
    again = manager.load(anon, CLIENT)
    assert again.user_id is None and "cart" not in again
    assert manager.load(authed, CLIENT)["cart"] == ["book"]


def test_login_can_drop_pre_login_data(manager: SessionManager) -> None:
    s = manager.load(None, CLIENT)
    s.update({"cart": [1], "tracking": "x"})
    s.login("alice", keep=("cart",))
    assert dict(s) == {"cart": [1]}


@pytest.mark.parametrize("bad", [None, "", 0])
def test_login_refuses_an_empty_user(manager: SessionManager, bad: Any) -> None:
    with pytest.raises(ValueError, match="non-empty string"):
        manager.load(None, CLIENT).login(bad)


def test_rotation_keeps_identity_and_absolute_deadline(
    manager: SessionManager, clock: FakeClock
) -> None:
    s = manager.load(None, CLIENT)
    s.login("alice")
    first = cookie_of(manager.commit(s))
    handle, created = s.handle, s.record.created_at  # type: ignore[union-attr]
    clock.advance(100)
    s = manager.load(first, CLIENT)
    s.rotate()
    second = cookie_of(manager.commit(s))
    assert second != first
    assert s.handle == handle and s.record.created_at == created  # type: ignore[union-attr]
    assert manager.load(first, CLIENT).user_id is None


def test_logout_destroys_record_and_clears_cookie_with_clear_site_data(
    manager: SessionManager, store: CountingStore, sink: MemorySink
) -> None:
    s = manager.load(None, CLIENT)
    s.login("alice")
    cookie = cookie_of(manager.commit(s))
    s = manager.load(cookie, CLIENT)
    s.logout()
    headers = dict(manager.commit(s))
    assert headers["set-cookie"].startswith("__Host-session=; Path=/; Max-Age=0")
    assert headers["clear-site-data"] == '"cache", "cookies", "storage"'
    assert store.inner.list_all() == []
    assert manager.load(cookie, CLIENT).user_id is None
    assert sink.kinds()[-1] == "session.id.unknown"


def test_a_save_racing_a_logout_never_resurrects(manager: SessionManager) -> None:
    s = manager.load(None, CLIENT)
    s.login("alice")
    cookie = cookie_of(manager.commit(s))
    slow = manager.load(cookie, CLIENT)  # a request in flight
    quick = manager.load(cookie, CLIENT)
    quick.logout()
    manager.commit(quick)
    slow["late"] = "write"
    headers = dict(manager.commit(slow))
    assert "Max-Age=0" in headers["set-cookie"]
    assert manager.store.list_all() == []


def test_concurrent_requests_changing_different_keys_both_survive(
    manager: SessionManager,
) -> None:
    s = manager.load(None, CLIENT)
    s["a"] = 0
    cookie = cookie_of(manager.commit(s))
    one, two = manager.load(cookie, CLIENT), manager.load(cookie, CLIENT)
    one["a"] = 1
    two["b"] = 2
    manager.commit(one)
    manager.commit(two)
    assert dict(manager.load(cookie, CLIENT)) == {"a": 1, "b": 2}


def test_in_place_mutation_of_nested_values_is_saved(manager: SessionManager) -> None:
    s = manager.load(None, CLIENT)
    s["cart"] = []
    cookie = cookie_of(manager.commit(s))
    s = manager.load(cookie, CLIENT)
    s["cart"].append("pen")
    manager.commit(s)
    assert manager.load(cookie, CLIENT)["cart"] == ["pen"]


def test_idle_and_absolute_expiry_emit_distinct_events(
    manager: SessionManager, clock: FakeClock, sink: MemorySink
) -> None:
    s = manager.load(None, CLIENT)
    s.login("alice")
    cookie = cookie_of(manager.commit(s))
    clock.advance(601)
    assert manager.load(cookie, CLIENT).user_id is None
    assert sink.kinds()[-1] == "session.expired.idle"
    s = manager.load(None, CLIENT)
    s.login("alice")
    cookie = cookie_of(manager.commit(s))
    for _ in range(70):  # busy every 55 s: never idle, but the absolute clock runs out
        clock.advance(55)
        s = manager.load(cookie, CLIENT)
        if s.user_id is None:
            break
        headers = manager.commit(s)
        cookie = next((cookie_of(headers) for k, _ in headers if k == "set-cookie"), cookie)
    assert s.user_id is None
    assert sink.kinds()[-1] == "session.expired.absolute"


def test_revoke_own_refuses_another_users_handle(manager: SessionManager) -> None:
    mallory = manager.load(None, CLIENT)
    mallory.login("mallory")
    manager.commit(mallory)
    alice = manager.load(None, CLIENT)
    alice.login("alice")
    assert not alice.revoke(mallory.handle)  # type: ignore[arg-type]
    assert manager.store.get_by_handle(mallory.handle) is not None
    assert not alice.revoke("no-such-handle")


def test_logout_everywhere_and_listing(manager: SessionManager, sink: MemorySink) -> None:
    devices = []
    for ua in ("Phone", "Laptop", "Tablet"):
        s = manager.load(None, ClientInfo(ip="198.51.100.1", user_agent=ua))
        s.login("alice")
        manager.commit(s)
        devices.append(s)
    listed = devices[0].sessions()
    assert {i.user_agent for i in listed} == {"Phone", "Laptop", "Tablet"}
    assert [i.current for i in listed].count(True) == 1
    assert devices[1].logout_everywhere() == 3
    assert manager.sessions_of("alice") == []
    assert sink.kinds().count("session.revoked") == 2


def test_admin_revocation(manager: SessionManager) -> None:
    for user in ("a", "a", "b"):
        s = manager.load(None, CLIENT)
        s.login(user)
    assert manager.revoke_user("a") == 2
    assert manager.revoke_all() == 1


def test_concurrent_session_limit_policies(store: CountingStore, clock: FakeClock) -> None:
    evict = SessionManager(
        store,
        clock=clock,
        sinks=[],  # type: ignore[arg-type]
        policy=SessionPolicy(max_sessions_per_user=2),
    )
    for _ in range(3):
        clock.advance(1)
        evict.load(None, CLIENT).login("alice")
    assert len(evict.sessions_of("alice")) == 2
    reject = SessionManager(
        store,
        clock=clock,
        sinks=[],  # type: ignore[arg-type]
        policy=SessionPolicy(max_sessions_per_user=2, on_limit="reject_new"),
    )
    with pytest.raises(SessionLimitExceeded):
        reject.load(None, CLIENT).login("alice")


def test_session_data_must_be_json(manager: SessionManager) -> None:
    s = manager.load(None, CLIENT)
    with pytest.raises(TypeError, match="'when'"):
        s["when"] = object()  # refused at the assignment, naming the key
    s["later"] = []
    s["later"].append(object())  # in-place mutation is only seen at save time
    with pytest.raises(SessionDataError, match="JSON"):
        manager.commit(s)


@pytest.mark.parametrize("codec", ["json", "tagged"])
def test_a_stored_session_grown_past_the_limit_is_refused_and_kept(
    store: CountingStore, clock: FakeClock, codec: str
) -> None:
    policy = SessionPolicy(max_data_bytes=1024, codec=codec)  # type: ignore[arg-type]
    manager = SessionManager(store, policy=policy, clock=clock, sinks=[])  # type: ignore[arg-type]
    s = manager.load(None, CLIENT)
    s["cart"] = ["apple"]
    token = cookie_of(manager.commit(s))
    s = manager.load(token, CLIENT)
    s["note"] = "x" * 2000  # only this key changed; the whole session is what must fit
    with pytest.raises(SessionDataError, match="larger than 1024 bytes"):
        manager.commit(s)
    s = manager.load(token, CLIENT)
    s["cart"].append(object())  # in place, in a key loaded from the store
    with pytest.raises(SessionDataError, match="JSON" if codec == "json" else "tagged"):
        manager.commit(s)
    kept = manager.load(token, CLIENT)
    assert dict(kept) == {"cart": ["apple"]}


def test_a_failing_sink_never_breaks_the_request(
    store: CountingStore, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: Event) -> None:
        raise RuntimeError("audit backend down")

    manager = SessionManager(store, clock=clock, sinks=[broken])  # type: ignore[arg-type]
    s = manager.load(None, CLIENT)
    with caplog.at_level(logging.ERROR, logger="sessionward"):
        s.login("alice")
    assert s.user_id == "alice"
    assert "event sink" in caplog.text


def test_tokens_never_reach_events_or_logs(
    store: CountingStore, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    manager = SessionManager(store, clock=clock)  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO, logger="sessionward.audit"):
        s = manager.load(None, CLIENT)
        s.login("alice")
        token = s.token
        assert token
        manager.load(f"__Host-session={token}", CLIENT).logout()
        manager.load(f"__Host-session={token}", CLIENT)  # replay: unknown id event
    assert EventKind.UNKNOWN_ID.value in caplog.text
    assert token not in caplog.text
    assert session_key(token) not in caplog.text
