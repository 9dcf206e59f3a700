"""The engine's own guarantees through Django's session API, with an injected clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.test import Client

from sessionward import MemoryStore, SessionManager, SessionPolicy
from sessionward.core.session_tokens import session_key
from sessionward.integrations.django import conf
from sessionward.integrations.django.engine import SessionStore
from sessionward.monitoring import MemorySink
from sessionward.testing import FakeClock

from . import django_settings, django_site  # noqa: F401  (django_settings configures Django)
from .django_helpers import Site, login


@pytest.fixture
def manager() -> Iterator[SessionManager]:
    policy = SessionPolicy(idle_timeout=600, absolute_timeout=3600, touch_interval=10)
    manager = SessionManager(MemoryStore(), clock=FakeClock(), sinks=[MemorySink()], policy=policy)
    django_site.CURRENT = manager
    conf.reset()
    yield manager
    conf.reset()


def clock_of(manager: SessionManager) -> FakeClock:
    clock = manager.flows.clock
    if not isinstance(clock, FakeClock):
        raise TypeError("the test manager has a FakeClock")
    return clock


def test_keys_are_hashed_at_rest_and_unknown_keys_never_adopted(manager: SessionManager) -> None:
    session = SessionStore()
    session["a"] = 1
    session.save()
    key = session.session_key
    assert key is not None
    (record,) = manager.store.list_all()
    assert record.key == session_key(key) and key not in repr(record)
    chosen = "attacker-chosen-session-key-0123456789abcdef"
    planted = SessionStore(chosen)
    planted["b"] = 2
    planted.save()
    assert planted.session_key not in (None, chosen)
    assert not manager.exists(chosen)


def test_idle_and_absolute_timeouts_hold(manager: SessionManager) -> None:
    clock = clock_of(manager)
    session = SessionStore()
    session["a"] = 1
    session.save()
    key = session.session_key
    clock.advance(601)
    assert "a" not in SessionStore(key)
    busy = SessionStore()
    busy["n"] = 0
    busy.save()
    key = busy.session_key
    for n in range(1, 8):  # a visit every 500 s: never idle, 3500 s in all
        clock.advance(500)
        visit = SessionStore(key)
        assert visit["n"] == n - 1
        visit["n"] = n
        visit.save()
    clock.advance(200)  # 3700 s after it began: past the absolute timeout (3600 s)
    assert "n" not in SessionStore(key)


def test_set_expiry_shortens_but_never_extends(manager: SessionManager) -> None:
    clock = clock_of(manager)
    short = SessionStore()
    short["a"] = 1
    short.set_expiry(60)
    short.save()
    clock.advance(61)
    assert "a" not in SessionStore(short.session_key)
    long = SessionStore()
    long["a"] = 1
    long.set_expiry(timedelta(days=30))
    long.save()
    assert long.get_session_cookie_age() <= 600
    clock.advance(601)
    assert "a" not in SessionStore(long.session_key)


def test_session_limit_reject_new_refuses_the_login(site: Site) -> None:
    policy = SessionPolicy(max_sessions_per_user=1, on_limit="reject_new")
    site.manager = SessionManager(MemoryStore(), sinks=[], policy=policy)
    django_site.CURRENT = site.manager
    conf.reset()
    first, second = Client(), Client()
    assert login(first).status_code == 302
    refused = login(second)
    assert refused.status_code == 403
    assert len(site.sessions()) == 1
    assert not site.signed_in(second) and site.signed_in(first)


def test_evict_oldest_limit_applies_to_django_logins(site: Site) -> None:
    clock = FakeClock()
    policy = SessionPolicy(max_sessions_per_user=2)
    site.manager = SessionManager(MemoryStore(), sinks=[], policy=policy, clock=clock)
    django_site.CURRENT = site.manager
    conf.reset()
    clients = [Client() for _ in range(3)]
    for client in clients:
        clock.advance(1)
        login(client)
    assert len(site.sessions()) == 2
    assert [site.signed_in(c) for c in clients] == [False, True, True]
