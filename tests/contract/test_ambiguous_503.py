"""Retrying after an ambiguous 503 does no harm.

A write that timed out may still have been applied (a PostgreSQL commit whose answer was lost,
a Redis script run once a stall ends). :class:`LostAnswer` plays that store: it performs the
call, then raises ``StoreUnavailable`` as if the answer never came. A client retries the
operation the way a browser or an API client would: with the cookie or token it still holds.
"""

from __future__ import annotations

from typing import Any

import pytest

from sessionward import ClientInfo, MemoryStore, SessionManager, SessionPolicy
from sessionward.errors import StoreUnavailable
from sessionward.monitoring import EventKind, MemorySink
from sessionward.testing import FakeClock

CLIENT = ClientInfo(ip="203.0.113.7", user_agent="Retry/1.0")


class LostAnswer:
    """A store wrapper whose next call to ``method`` is applied but answers with a 503."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.lose: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            if name in self.lose:
                self.lose.discard(name)
                raise StoreUnavailable(f"{name}: the answer was lost (the write was applied)")
            return result

        return call


def cookie_of(headers: list[tuple[str, str]]) -> str:
    values = [v.split(";")[0] for k, v in headers if k == "set-cookie"]
    return values[-1] if values else ""


def make(policy: SessionPolicy | None = None) -> tuple[SessionManager, LostAnswer, MemorySink]:
    store = LostAnswer(MemoryStore())
    sink = MemorySink()
    manager = SessionManager(
        store,  # type: ignore[arg-type]
        policy=policy or SessionPolicy(),
        clock=FakeClock(),
        sinks=[sink],
    )
    return manager, store, sink


def logged_in(manager: SessionManager, user: str, cookie: str | None = None) -> str:
    session = manager.load(cookie, CLIENT)
    manager.login(session, user)
    return cookie_of(manager.commit(session))


def test_a_retried_login_is_not_refused_by_the_limit_it_filled_itself() -> None:
    manager, store, _ = make(SessionPolicy(max_sessions_per_user=1, on_limit="reject_new"))
    store.lose.add("create")
    with pytest.raises(StoreUnavailable):
        logged_in(manager, "ann")  # applied, but the browser saw a 503
    cookie = logged_in(manager, "ann")  # the user presses the button again
    assert manager.load(cookie, CLIENT).user_id == "ann"
    assert len(manager.sessions_of("ann")) == 1


def test_a_retried_login_does_not_evict_the_users_other_device() -> None:
    manager, store, _ = make(SessionPolicy(max_sessions_per_user=2, on_limit="evict_oldest"))
    laptop = logged_in(manager, "ann")
    store.lose.add("create")
    with pytest.raises(StoreUnavailable):
        logged_in(manager, "ann")
    logged_in(manager, "ann")
    assert manager.load(laptop, CLIENT).user_id == "ann"
    assert len(manager.sessions_of("ann")) == 2


def test_a_retried_rotation_fails_closed_and_leaves_no_orphan() -> None:
    manager, store, _ = make()
    cookie = logged_in(manager, "ann")
    session = manager.load(cookie, CLIENT)
    store.lose.add("create")
    with pytest.raises(StoreUnavailable):
        manager.rotate(session)
    # The old token died with the applied rotation: the retry is anonymous (log in again),
    # and the new record nobody received is gone rather than counting as a session.
    assert manager.load(cookie, CLIENT).user_id is None
    assert manager.sessions_of("ann") == []


def test_a_retried_logout_is_a_quiet_success() -> None:
    manager, store, sink = make()
    cookie = logged_in(manager, "ann")
    session = manager.load(cookie, CLIENT)
    store.lose.add("delete")
    with pytest.raises(StoreUnavailable):
        manager.logout(session)
    retry = manager.load(cookie, CLIENT)
    manager.logout(retry)  # nothing left to end: no error
    headers = manager.commit(retry)
    assert manager.sessions_of("ann") == []
    assert cookie_of(headers).endswith("=")  # the cookie is cleared all the same
    # The audit trail tells the truth it can see: the first logout never answered, the retry
    # came with a cookie the store no longer knows.
    assert EventKind.UNKNOWN_ID.value in sink.kinds()


def test_a_retried_revoke_and_logout_everywhere_change_nothing_more() -> None:
    manager, store, _ = make()
    phone = logged_in(manager, "ann")
    laptop = logged_in(manager, "ann")
    handle = manager.load(phone, CLIENT).handle
    assert handle is not None
    store.lose.add("delete")
    with pytest.raises(StoreUnavailable):
        manager.revoke(handle)
    assert manager.revoke(handle) is False  # already gone: a 404, not a 500
    assert manager.load(laptop, CLIENT).user_id == "ann"

    session = manager.load(laptop, CLIENT)
    store.lose.add("delete_by_user")
    with pytest.raises(StoreUnavailable):
        manager.logout_everywhere(session)
    assert manager.logout_everywhere(manager.load(laptop, CLIENT)) == 0
    assert manager.sessions_of("ann") == []


def test_a_retried_refresh_inside_the_grace_window_gets_the_same_tokens() -> None:
    pytest.importorskip("jwt")
    from tokens.helpers import World

    world = World()
    lost = LostAnswer(world.token_store)
    world.tokens.store = lost  # type: ignore[assignment]
    first = world.tokens.login("ann", CLIENT)
    lost.lose.add("rotate")
    with pytest.raises(StoreUnavailable):
        world.tokens.refresh(first.refresh_token, CLIENT)
    world.clock.advance(2)
    retried = world.tokens.refresh(first.refresh_token, CLIENT)
    # Not taken for a stolen token: no reuse alarm, the family lives on.
    assert "token.refresh.reused" not in world.sink.kinds()
    assert world.tokens.refresh(retried.refresh_token, CLIENT).session == first.session
