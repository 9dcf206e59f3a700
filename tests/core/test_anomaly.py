"""The User-Agent rule: a session created without a User-Agent has an unknown one."""

from __future__ import annotations

from sessionward.core.anomaly import AnomalyRules, inspect, meta_after
from sessionward.core.client import ClientInfo
from sessionward.core.records import SessionRecord


def record(user_agent: str | None) -> SessionRecord:
    return SessionRecord(
        key="k" * 64,
        handle="h",
        user_id="alice",
        created_at=0.0,
        last_seen_at=0.0,
        expires_at=100.0,
        user_agent=user_agent,
    )


def test_session_created_without_user_agent_is_flagged_not_revoked() -> None:
    # e.g. Flask's client.session_transaction() or a script: the first real browser that
    # uses the session must not be treated as a thief.
    findings = inspect(record(None), ClientInfo("10.0.0.1", "Firefox/130"), AnomalyRules())
    assert [(f.rule, f.action) for f in findings] == [("user_agent_change", "flag")]


def test_unknown_user_agent_stays_unknown_for_the_record_but_not_after_login() -> None:
    # session_transaction() (no agent), a request (Werkzeug agent), session_transaction() again.
    first = record(None)
    findings = inspect(first, ClientInfo("10.0.0.1", "Werkzeug/3"), AnomalyRules())
    learnt = first.evolve(meta={**first.meta, **meta_after(first, findings)})
    later = inspect(learnt, ClientInfo("10.0.0.1", None), AnomalyRules())
    assert [(f.rule, f.action) for f in later] == [("user_agent_change", "flag")]
    logged_in = record("Firefox/130")  # login writes a new record with the request's agent
    stolen = inspect(logged_in, ClientInfo("10.0.0.1", "curl/8"), AnomalyRules())
    assert [(f.rule, f.action) for f in stolen] == [("user_agent_change", "revoke")]


def test_a_known_user_agent_dropped_still_revokes() -> None:
    findings = inspect(record("Firefox/130"), ClientInfo("10.0.0.1", None), AnomalyRules())
    assert [(f.rule, f.action) for f in findings] == [("user_agent_change", "revoke")]


def test_allow_stays_allow_for_unknown_user_agent() -> None:
    rules = AnomalyRules(user_agent_change="allow")
    assert inspect(record(None), ClientInfo("10.0.0.1", "Firefox/130"), rules) == []
