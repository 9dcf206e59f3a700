"""The anomaly rules, each with its default and every configurable action."""

from __future__ import annotations

import pytest

from sessionward import ClientInfo, MemoryStore, SessionManager
from sessionward.core.anomaly import Action
from sessionward.errors import ConfigurationError
from sessionward.monitoring import AnomalyRules, EventKind, MemorySink, Monitoring
from sessionward.testing import FakeClock

from .helpers import FIREFOX, HOME, IPHONE, logged_in, visit

OTHER_UA = ClientInfo(ip=HOME.ip, user_agent=IPHONE)
OTHER_IP = ClientInfo(ip="198.51.100.20", user_agent=FIREFOX)


def make(clock: FakeClock, sink: MemorySink, rules: AnomalyRules | None = None) -> SessionManager:
    monitoring = Monitoring() if rules is None else Monitoring(rules=rules)
    return SessionManager(MemoryStore(), clock=clock, sinks=[sink], monitoring=monitoring)


def anomalies(sink: MemorySink) -> list[tuple[str | None, object]]:
    return [(e.reason, e.detail.get("action")) for e in sink.events if e.kind is EventKind.ANOMALY]


def test_defaults_are_revoke_on_user_agent_change_and_flag_on_ip_change() -> None:
    rules = AnomalyRules()
    assert rules.user_agent_change == "revoke"
    assert rules.ip_change == "flag"
    assert rules.guessing is not None


def test_user_agent_change_revokes_by_default_and_requires_login(
    clock: FakeClock,
) -> None:
    sink = MemorySink()
    manager = make(clock, sink)
    cookie = logged_in(manager)
    stolen = visit(manager, cookie, OTHER_UA)
    assert not stolen.is_authenticated
    assert anomalies(sink) == [("user_agent_change", "revoke")]
    revoked = [e for e in sink.events if e.kind is EventKind.REVOKED]
    assert [e.reason for e in revoked] == ["anomaly"]
    assert revoked[0].user_id == "alice"
    # The session is gone for the legitimate browser too: log in again.
    assert not visit(manager, cookie, HOME).is_authenticated


def test_ip_change_is_flagged_by_default_once_and_session_kept(clock: FakeClock) -> None:
    sink = MemorySink()
    manager = make(clock, sink)
    cookie = logged_in(manager)
    for _ in range(3):
        session = visit(manager, cookie, OTHER_IP)
        assert session.is_authenticated
    assert anomalies(sink) == [("ip_change", "flag")]
    event = next(e for e in sink.events if e.kind is EventKind.ANOMALY)
    assert event.ip == OTHER_IP.ip
    assert event.detail["previous"] == HOME.ip
    info = session.sessions()[0]
    assert info.flags == ("ip_change",)
    assert info.last_ip == OTHER_IP.ip
    assert info.ip == HOME.ip
    assert not session.needs_reauthentication(3600)


def test_ip_change_back_and_forth_flags_each_change(clock: FakeClock) -> None:
    sink = MemorySink()
    manager = make(clock, sink)
    cookie = logged_in(manager)
    visit(manager, cookie, OTHER_IP)
    visit(manager, cookie, HOME)
    assert anomalies(sink) == [("ip_change", "flag"), ("ip_change", "flag")]


def test_ip_change_can_require_reauthentication(clock: FakeClock) -> None:
    sink = MemorySink()
    manager = make(clock, sink, AnomalyRules(ip_change="reauthenticate"))
    cookie = logged_in(manager)
    assert not visit(manager, cookie).needs_reauthentication(3600)
    session = visit(manager, cookie, OTHER_IP)
    assert session.is_authenticated
    assert session.needs_reauthentication(3600)
    assert anomalies(sink) == [("ip_change", "reauthenticate")]
    session.reauthenticate()
    assert not session.needs_reauthentication(3600)


def test_ip_change_can_revoke(clock: FakeClock) -> None:
    sink = MemorySink()
    manager = make(clock, sink, AnomalyRules(ip_change="revoke"))
    cookie = logged_in(manager)
    assert not visit(manager, cookie, OTHER_IP).is_authenticated


@pytest.mark.parametrize("action", ["allow", "flag", "reauthenticate"])
def test_user_agent_change_other_actions(clock: FakeClock, action: Action) -> None:
    sink = MemorySink()
    manager = make(clock, sink, AnomalyRules(user_agent_change=action))
    cookie = logged_in(manager)
    session = visit(manager, cookie, OTHER_UA)
    visit(manager, cookie, OTHER_UA)
    assert session.is_authenticated
    expected = [] if action == "allow" else [("user_agent_change", action)]
    assert anomalies(sink) == expected
    assert session.needs_reauthentication(3600) is (action == "reauthenticate")


def test_user_agent_disappearing_is_a_change(clock: FakeClock) -> None:
    sink = MemorySink()
    manager = make(clock, sink, AnomalyRules(user_agent_change="flag"))
    cookie = logged_in(manager)
    bare = ClientInfo(ip=HOME.ip, user_agent=None)
    visit(manager, cookie, bare)
    visit(manager, cookie, bare)
    assert anomalies(sink) == [("user_agent_change", "flag")]


def test_both_rules_fire_and_the_strongest_action_wins(clock: FakeClock) -> None:
    sink = MemorySink()
    manager = make(clock, sink)
    cookie = logged_in(manager)
    thief = ClientInfo(ip="198.51.100.20", user_agent="curl/8.0")
    assert not visit(manager, cookie, thief).is_authenticated
    assert sorted(anomalies(sink)) == [("ip_change", "flag"), ("user_agent_change", "revoke")]


def test_rules_off_means_no_anomalies(clock: FakeClock) -> None:
    sink = MemorySink()
    manager = make(clock, sink, AnomalyRules.off())
    cookie = logged_in(manager)
    assert visit(manager, cookie, ClientInfo(ip="198.51.100.1", user_agent="x")).is_authenticated
    assert anomalies(sink) == []


def test_rotation_adopts_the_current_client(clock: FakeClock) -> None:
    sink = MemorySink()
    manager = make(clock, sink, AnomalyRules(ip_change="reauthenticate"))
    cookie = logged_in(manager)
    session = visit(manager, cookie, OTHER_IP)
    session.reauthenticate()
    assert session.sessions()[0].ip == OTHER_IP.ip
    assert session.sessions()[0].flags == ()


def test_bad_rule_configuration_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="ip_change"):
        AnomalyRules(ip_change="block")  # type: ignore[arg-type]
