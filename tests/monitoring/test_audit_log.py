"""The AuditLog contract, run against every implementation (Redis and PostgreSQL for real)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sessionward import ConfigurationError
from sessionward.audit import AuditSink
from sessionward.monitoring import Event, EventKind

from .backends import BACKENDS

T0 = 1_800_000_000.0


@pytest.fixture(params=sorted(BACKENDS))
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    with BACKENDS[request.param](tmp_path) as audit:
        yield audit


def event(
    kind: EventKind = EventKind.LOGIN_SUCCEEDED,
    at: float = T0,
    user: str | None = "alice",
    handle: str | None = "H1",
    **detail: Any,
) -> Event:
    return Event(
        kind=kind,
        at=at,
        user_id=user,
        handle=handle,
        ip="203.0.113.9",
        user_agent="Firefox/130 Zoë",
        reason="because",
        detail=detail,
        device="Firefox 130 on Linux",
    )


def test_append_and_query_round_trips_every_field(log: Any) -> None:
    original = event(extra={"nested": [1, "two"]}, previous="x")
    log.append(original)
    [entry] = log.query()
    assert entry.event == original
    assert entry.id


def test_query_is_newest_first_with_a_limit(log: Any) -> None:
    for i in range(5):
        log.append(event(at=T0 + i, n=i))
    got = [e.event.detail["n"] for e in log.query(limit=3)]
    assert got == [4, 3, 2]


def test_login_history_of_a_user(log: Any) -> None:
    log.append(event(user="alice", handle="A1"))
    log.append(event(EventKind.LOGIN_FAILED, user="alice", handle=None))
    log.append(event(user="bob", handle="B1"))
    log.append(event(EventKind.LOGOUT, user="alice", handle="A1"))
    history = log.query(user_id="alice")
    assert [e.event.kind for e in history] == [
        EventKind.LOGOUT,
        EventKind.LOGIN_FAILED,
        EventKind.LOGIN_SUCCEEDED,
    ]
    logins = log.query(user_id="alice", kinds={EventKind.LOGIN_SUCCEEDED})
    assert [e.event.handle for e in logins] == ["A1"]


def test_events_for_one_session(log: Any) -> None:
    log.append(event(EventKind.SESSION_CREATED, user=None, handle="S"))
    log.append(event(user="alice", handle="S"))
    log.append(event(user="alice", handle="T"))
    log.append(event(EventKind.REVOKED, user="alice", handle="S"))
    kinds = [e.event.kind for e in log.query(handle="S")]
    assert kinds == [EventKind.REVOKED, EventKind.LOGIN_SUCCEEDED, EventKind.SESSION_CREATED]
    assert [e.event.kind for e in log.query(handle="S", user_id="alice")] == kinds[:2]


def test_since_and_kinds_filters(log: Any) -> None:
    for i in range(4):
        log.append(event(EventKind.ANOMALY if i % 2 else EventKind.LOGOUT, at=T0 + 10 * i))
    got = log.query(since=T0 + 15, kinds=[EventKind.ANOMALY])
    assert [e.event.at for e in got] == [T0 + 30]
    assert log.query(kinds=[]) == []


def test_tail_follows_appends_with_a_cursor(log: Any) -> None:
    assert log.tail() == []
    for i in range(3):
        log.append(event(n=i))
    first = log.tail(limit=2)
    assert [e.event.detail["n"] for e in first] == [1, 2]
    assert log.tail(after=first[-1].id) == []
    log.append(event(n=3))
    log.append(event(n=4))
    more = log.tail(after=first[-1].id, limit=1)
    assert [e.event.detail["n"] for e in more] == [3]
    assert [e.event.detail["n"] for e in log.tail(after=more[-1].id)] == [4]


def test_bad_limits_are_refused(log: Any) -> None:
    with pytest.raises(ConfigurationError):
        log.query(limit=0)
    with pytest.raises(ConfigurationError):
        log.tail(limit=10**9)


def test_audit_sink_appends_events(log: Any) -> None:
    sink = AuditSink(log)
    sink(event(EventKind.LOGOUT))
    assert [e.event.kind for e in log.query()] == [EventKind.LOGOUT]
