"""Periodic token renewal with a grace window, on every store, with an injected clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contract.stores import FACTORIES
from sessionward import ClientInfo, ConfigurationError, SessionManager, SessionPolicy
from sessionward.core.session_tokens import session_key
from sessionward.testing import FakeClock

CLIENT = ClientInfo.from_raw("192.0.2.1", "Firefox/130")
POLICY = SessionPolicy(renew_interval=300, renewal_grace=10, touch_interval=60)


@pytest.fixture(params=sorted(FACTORIES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    s = FACTORIES[request.param](tmp_path)
    s.delete_all()
    yield s
    s.delete_all()
    s.close()


@pytest.fixture
def manager(store: Any, clock: FakeClock) -> SessionManager:
    return SessionManager(store, policy=POLICY, clock=clock, sinks=())


def cookie_of(headers: list[tuple[str, str]]) -> str | None:
    for name, value in headers:
        if name == "set-cookie":
            return value.split(";", 1)[0].split("=", 1)[1]
    return None


def request(manager: SessionManager, token: str, **writes: Any) -> tuple[Any, str | None]:
    session = manager.load(f"__Host-session={token}", CLIENT)
    for name, value in writes.items():
        session[name] = value
    return session, cookie_of(manager.commit(session))


def login(manager: SessionManager) -> str:
    session = manager.load(None, CLIENT)
    session.login("alice")
    token = cookie_of(manager.commit(session))
    assert token
    return token


def test_policy_validates_renewal_settings() -> None:
    with pytest.raises(ConfigurationError):
        SessionPolicy(renew_interval=5, renewal_grace=10)
    with pytest.raises(ConfigurationError):
        SessionPolicy(renewal_grace=0)
    with pytest.raises(ConfigurationError):
        SessionPolicy(renew_interval=13 * 3600)
    assert SessionPolicy().renew_interval is None


def test_renewal_sends_a_new_token_and_the_old_one_works_only_within_the_grace(
    manager: SessionManager, clock: FakeClock
) -> None:
    old = login(manager)
    clock.advance(100)
    session, cookie = request(manager, old)
    assert session.user_id == "alice" and cookie in (None, old)  # not due yet

    clock.advance(250)
    session, new = request(manager, old)
    assert new and new != old and session.user_id == "alice"

    clock.advance(5)  # a request the browser sent before it saw the new cookie
    late, resent = request(manager, old, late=True)
    assert late.user_id == "alice" and resent == new
    current, _ = request(manager, new)
    assert current.user_id == "alice" and current["late"] is True

    clock.advance(6)  # the grace window is over
    dead, cleared = request(manager, old)
    assert dead.user_id is None and cleared is None
    alive, _ = request(manager, new)
    assert alive.user_id == "alice"


def test_in_flight_write_with_the_old_token_lands_in_the_renewed_session(
    manager: SessionManager, clock: FakeClock
) -> None:
    old = login(manager)
    clock.advance(301)
    in_flight = manager.load(f"__Host-session={old}", CLIENT)  # loaded before the renewal
    _, new = request(manager, old)
    assert new and new != old
    in_flight["cart"] = [1, 2]
    assert cookie_of(manager.commit(in_flight)) == new
    session, _ = request(manager, new)
    assert session["cart"] == [1, 2]


def test_two_requests_due_at_once_renew_once(manager: SessionManager, clock: FakeClock) -> None:
    old = login(manager)
    clock.advance(301)
    first = manager.load(f"__Host-session={old}", CLIENT)
    second = manager.load(f"__Host-session={old}", CLIENT)
    first["a"], second["b"] = 1, 2
    one = cookie_of(manager.commit(first))
    two = cookie_of(manager.commit(second))
    assert one and one == two
    session, _ = request(manager, one)
    assert (session["a"], session["b"]) == (1, 2)


def test_logout_racing_a_renewal_ends_the_renewed_session_too(
    manager: SessionManager, clock: FakeClock
) -> None:
    old = login(manager)
    clock.advance(301)
    racing = manager.load(f"__Host-session={old}", CLIENT)
    _, new = request(manager, old)
    assert new
    racing.logout()
    manager.commit(racing)
    assert request(manager, new)[0].user_id is None
    assert manager.store.list_by_user("alice") == []


@pytest.mark.parametrize("operation", ["rotate", "login"])
def test_rotation_or_login_racing_a_renewal_replaces_the_renewed_session(
    manager: SessionManager, clock: FakeClock, operation: str
) -> None:
    old = login(manager)
    clock.advance(301)
    racing = manager.load(f"__Host-session={old}", CLIENT)
    _, renewed = request(manager, old)
    assert renewed
    if operation == "rotate":
        racing.rotate()
    else:
        racing.login("alice")
    fresh = cookie_of(manager.commit(racing))
    assert fresh and fresh not in (old, renewed)
    assert request(manager, renewed)[0].user_id is None
    assert request(manager, fresh)[0].user_id == "alice"
    assert len(manager.store.list_by_user("alice")) == 1


def test_no_live_token_is_stored(manager: SessionManager, clock: FakeClock) -> None:
    old = login(manager)
    clock.advance(301)
    _, new = request(manager, old)
    assert new
    stored = repr(manager.store.list_all())
    assert old not in stored and new not in stored
    assert session_key(new) in stored


def test_a_store_without_renew_is_refused_when_renewal_is_on(clock: FakeClock) -> None:
    class Minimal:
        def __getattr__(self, name: str) -> Any:
            if name == "renew":
                raise AttributeError(name)
            return lambda *a, **k: None

    with pytest.raises(ConfigurationError, match="renew"):
        SessionManager(Minimal(), policy=POLICY, clock=clock)  # type: ignore[arg-type]
