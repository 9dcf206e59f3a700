"""The new-device notification hook."""

from __future__ import annotations

from sessionward import ClientInfo, MemoryStore, SessionManager
from sessionward.audit import AuditSink, MemoryAuditLog, NewDeviceNotifier
from sessionward.monitoring import Event, EventKind
from sessionward.testing import FakeClock

from .helpers import FIREFOX, HOME, IPHONE, logged_in

PHONE = ClientInfo(ip="198.51.100.3", user_agent=IPHONE)


def setup(
    clock: FakeClock, **options: object
) -> tuple[SessionManager, MemoryAuditLog, list[Event]]:
    log = MemoryAuditLog()
    seen: list[Event] = []
    notifier = NewDeviceNotifier(log, seen.append, **options)  # type: ignore[arg-type]
    manager = SessionManager(MemoryStore(), clock=clock, sinks=[AuditSink(log), notifier])
    return manager, log, seen


def test_a_login_from_a_new_device_calls_the_hook_and_is_logged(clock: FakeClock) -> None:
    manager, log, seen = setup(clock)
    logged_in(manager, "alice", HOME)
    assert seen == []  # the first login ever is not news
    logged_in(manager, "alice", HOME)
    assert seen == []
    logged_in(manager, "alice", PHONE)
    [news] = seen
    assert (news.kind, news.user_id, news.ip) == (EventKind.NEW_DEVICE, "alice", PHONE.ip)
    assert news.device == "Mobile Safari 17 on iOS 17 (iPhone)"
    history = [e.event.kind for e in log.query(user_id="alice")]
    assert history[:2] == [EventKind.NEW_DEVICE, EventKind.LOGIN_SUCCEEDED]
    logged_in(manager, "alice", PHONE)
    assert len(seen) == 1


def test_a_browser_update_is_not_a_new_device(clock: FakeClock) -> None:
    manager, _log, seen = setup(clock)
    logged_in(manager, "alice", HOME)
    updated = ClientInfo(ip=HOME.ip, user_agent=FIREFOX.replace("130", "131"))
    logged_in(manager, "alice", updated)
    assert seen == []


def test_devices_are_per_user_and_first_login_can_notify(clock: FakeClock) -> None:
    manager, _log, seen = setup(clock, notify_first_login=True)
    logged_in(manager, "alice", HOME)
    logged_in(manager, "bob", HOME)
    assert [e.user_id for e in seen] == ["alice", "bob"]


def test_the_notifier_works_before_or_after_the_audit_sink(clock: FakeClock) -> None:
    log = MemoryAuditLog()
    seen: list[Event] = []
    manager = SessionManager(
        MemoryStore(), clock=clock, sinks=[NewDeviceNotifier(log, seen.append), AuditSink(log)]
    )
    logged_in(manager, "alice", HOME)
    logged_in(manager, "alice", PHONE)
    assert len(seen) == 1


def test_without_ua_parser_the_whole_user_agent_is_the_device(clock: FakeClock) -> None:
    manager, _log, seen = setup(clock, labeler=None)
    logged_in(manager, "alice", HOME)
    logged_in(manager, "alice", ClientInfo(ip=HOME.ip, user_agent=FIREFOX.replace("130", "131")))
    assert len(seen) == 1
