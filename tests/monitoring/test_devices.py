"""Device labels parsed from the User-Agent (display only) and kept on the session."""

from __future__ import annotations

import subprocess
import sys

from sessionward import ClientInfo, MemoryStore, SessionManager
from sessionward.monitoring import Device, EventKind, MemorySink, Monitoring, UAParserLabeler
from sessionward.testing import FakeClock

from .helpers import FIREFOX, IPHONE, logged_in, visit


def test_labels_are_readable_and_keys_ignore_versions() -> None:
    label = UAParserLabeler()
    firefox = label(FIREFOX)
    assert firefox == Device(label="Firefox 130 on Linux", key="Firefox/Linux/-")
    newer = label(FIREFOX.replace("130", "131"))
    assert newer is not None and newer.key == firefox.key
    iphone = label(IPHONE)
    assert iphone is not None
    assert iphone.label == "Mobile Safari 17 on iOS 17 (iPhone)"
    assert label(None) is None
    assert label("") is None


def test_junk_user_agents_get_a_bounded_label() -> None:
    device = UAParserLabeler()("x" * 500)
    assert device is None or len(device.label) <= 80


def test_sessions_record_the_device_and_events_carry_it(clock: FakeClock) -> None:
    sink = MemorySink()
    manager = SessionManager(MemoryStore(), clock=clock, sinks=[sink])
    cookie = logged_in(manager)
    session = visit(manager, cookie)
    [info] = session.sessions()
    assert info.device == "Firefox 130 on Linux"
    assert info.user_agent == FIREFOX
    login = next(e for e in sink.events if e.kind is EventKind.LOGIN_SUCCEEDED)
    assert login.device == "Firefox 130 on Linux"
    assert login.as_dict()["device"] == "Firefox 130 on Linux"


def test_labelling_can_be_replaced_or_switched_off(clock: FakeClock) -> None:
    def custom(user_agent: str | None) -> Device | None:
        return Device(label="my device", key="k")

    manager = SessionManager(
        MemoryStore(), clock=clock, sinks=[], monitoring=Monitoring(devices=custom)
    )
    cookie = logged_in(manager)
    assert visit(manager, cookie).sessions()[0].device == "my device"
    off = SessionManager(MemoryStore(), clock=clock, sinks=[], monitoring=Monitoring(devices=None))
    session = off.load(None, ClientInfo(ip="1.2.3.4", user_agent=FIREFOX))
    session.login("bob")
    assert session.sessions()[0].device is None


def test_import_sessionward_does_not_import_ua_parser() -> None:
    code = "import sys, sessionward; sys.exit('ua_parser' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
