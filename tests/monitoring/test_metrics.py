"""Prometheus metrics from events: counters with low-cardinality labels, active-session gauge."""

from __future__ import annotations

import subprocess
import sys

import prometheus_client
import pytest

from sessionward import ClientInfo, MemoryStore, SessionManager, SessionPolicy
from sessionward.core.session_tokens import new_token
from sessionward.metrics import PrometheusSink, active_sessions, render
from sessionward.monitoring import Event, EventKind
from sessionward.testing import FakeClock

from .helpers import HOME, logged_in, visit


@pytest.fixture
def registry() -> prometheus_client.CollectorRegistry:
    return prometheus_client.CollectorRegistry()


def value(registry: prometheus_client.CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(f"sessionward_{name}", labels)


def test_life_cycle_events_become_counters(
    registry: prometheus_client.CollectorRegistry, clock: FakeClock
) -> None:
    store = MemoryStore()
    sink = PrometheusSink(registry, active_sessions=active_sessions(store, clock=clock))
    manager = SessionManager(
        store,
        policy=SessionPolicy(idle_timeout=600, absolute_timeout=3600),
        clock=clock,
        sinks=[sink],
    )
    cookie = logged_in(manager)
    logged_in(manager, "bob")
    assert value(registry, "active_sessions") == 2
    visit(manager, cookie).rotate()
    manager.emit(EventKind.LOGIN_FAILED, client=HOME)
    manager.load(f"__Host-session={new_token()}", HOME)
    manager.load("__Host-session=junk", HOME)
    visit(manager, logged_in(manager), ClientInfo(ip="198.51.100.1", user_agent=HOME.user_agent))
    visit(manager, logged_in(manager), ClientInfo(ip=HOME.ip, user_agent="curl/8"))
    manager.revoke_user("bob")
    manager.emit(EventKind.CSRF_REJECTED, client=HOME, reason="origin-mismatch")
    idle = logged_in(manager, "carol")
    clock.advance(601)
    visit(manager, idle)
    assert value(registry, "logins_total") == 5
    assert value(registry, "login_failures_total") == 1
    assert value(registry, "rotations_total", kind="rotated") == 1
    assert value(registry, "invalid_session_ids_total", kind="unknown") == 1
    assert value(registry, "invalid_session_ids_total", kind="malformed") == 1
    assert value(registry, "anomalies_total", rule="ip_change") == 1
    assert value(registry, "anomalies_total", rule="user_agent_change") == 1
    assert value(registry, "revocations_total", reason="anomaly") == 1
    assert value(registry, "revocations_total", reason="admin") == 1
    assert value(registry, "csrf_rejections_total") == 1
    assert value(registry, "expirations_total", kind="idle") == 1
    text, content_type = render(registry)
    assert b"sessionward_logins_total 5.0" in text
    assert content_type.startswith("text/plain")


def test_labels_stay_low_cardinality(registry: prometheus_client.CollectorRegistry) -> None:
    sink = PrometheusSink(registry)
    for i in range(50):
        sink(Event(EventKind.REVOKED, at=0, reason=f"made-up-{i}", user_id=f"user{i}"))
        sink(Event(EventKind.ANOMALY, at=0, reason=f"rule-{i}", ip=f"10.0.0.{i}"))
    assert value(registry, "revocations_total", reason="other") == 50
    assert value(registry, "anomalies_total", rule="other") == 50
    text = render(registry)[0].decode()
    assert "user1" not in text and "10.0.0.1" not in text


def test_renewal_is_counted_as_renewed(registry: prometheus_client.CollectorRegistry) -> None:
    sink = PrometheusSink(registry)
    sink(Event(EventKind.ROTATED, at=0, reason="renewal"))
    sink(Event(EventKind.REAUTHENTICATED, at=0))
    assert value(registry, "rotations_total", kind="renewed") == 1
    assert value(registry, "rotations_total", kind="reauthenticated") == 1


def test_every_event_kind_is_accepted(registry: prometheus_client.CollectorRegistry) -> None:
    sink = PrometheusSink(registry)
    for kind in EventKind:
        sink(Event(kind, at=0))


def test_revoke_all_counts_every_session(registry: prometheus_client.CollectorRegistry) -> None:
    sink = PrometheusSink(registry)
    sink(Event(EventKind.REVOKED, at=0, reason="admin", detail={"scope": "all", "count": 7}))
    assert value(registry, "revocations_total", reason="admin") == 7


def test_active_sessions_is_cached_and_survives_store_failure(clock: FakeClock) -> None:
    class Flaky(MemoryStore):
        broken = False

        def list_all(self, *, limit: int = 1000) -> list:  # type: ignore[type-arg]
            if self.broken:
                raise ConnectionError("down")
            return super().list_all(limit=limit)

    store = Flaky()
    manager = SessionManager(store, clock=clock, sinks=[])
    count = active_sessions(store, clock=clock, cache_for=10)
    assert count() == 0
    logged_in(manager)
    assert count() == 0  # cached
    clock.advance(10)
    assert count() == 1
    store.broken = True
    clock.advance(10)
    assert count() == 1


def test_importing_sessionward_does_not_import_prometheus() -> None:
    code = "import sys, sessionward; sys.exit('prometheus_client' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
