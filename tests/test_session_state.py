"""The session owns its state: flows hand it an outcome, nothing writes its private fields."""

from __future__ import annotations

import re
from pathlib import Path

import sessionward
from sessionward import MemoryStore, SessionManager
from sessionward.core.client import ClientInfo
from sessionward.session import Adopted, Ended, Saved
from sessionward.testing import FakeClock

PACKAGE = Path(sessionward.__file__).parent
CLIENT = ClientInfo(ip="203.0.113.5", user_agent="test")


def test_no_flow_or_shell_touches_a_sessions_private_state() -> None:
    private = re.compile(r"\bsession\._(adopt|end|persisted|changes|stored_data|ending)\b")
    offenders = [
        f"{path.relative_to(PACKAGE)}:{n}"
        for path in PACKAGE.rglob("*.py")
        if path.name != "session.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if private.search(line)
    ]
    assert offenders == []


def test_outcomes_move_the_session_between_its_states() -> None:
    manager = SessionManager(MemoryStore(), clock=FakeClock())
    session = manager.new_session(CLIENT)
    session["cart"] = [1]
    manager.commit(session)
    record, token = session.record, session.token
    assert record is not None and token is not None

    loaded = manager.load(f"{manager.cookie.wire_name}={token}", CLIENT)
    loaded["cart"] = [1, 2]
    assert loaded.pending_changes() == ({"cart": [1, 2]}, frozenset())
    loaded.apply(Saved(record))
    assert loaded.pending_changes() == ({}, frozenset())

    fresh = manager.new_session(CLIENT)
    fresh.apply(Adopted(record, token, new_cookie=True))
    assert fresh.handle == record.handle and fresh.cookie_changed

    fresh.apply(Ended())
    assert fresh.ended and fresh.record is None and dict(fresh) == {}


def test_after_a_save_the_baseline_is_the_data_and_owns_its_copies() -> None:
    # A save in the middle of a request (Django's save(), an explicit commit): what the app
    # changes afterwards, in place or not, must be a change again, and nothing else.
    manager = SessionManager(MemoryStore(), clock=FakeClock())
    session = manager.new_session(CLIENT)
    session.update({"cart": [1], "seen": {"a": 1}, "gone": 1, "same": "x"})
    manager.commit(session)
    token = session.token
    loaded = manager.load(f"{manager.cookie.wire_name}={token}", CLIENT)
    loaded["cart"].append(2)
    loaded["new"] = {"n": [1]}
    del loaded["gone"]
    manager.commit(loaded)
    assert loaded.pending_changes() == ({}, frozenset())
    loaded["cart"].append(3)  # the list the save wrote, mutated in place
    loaded["new"]["n"].append(2)  # nested, added by the save
    assert loaded.pending_changes() == ({"cart": [1, 2, 3], "new": {"n": [1, 2]}}, frozenset())
    loaded["gone"] = 2
    del loaded["same"]
    assert loaded.pending_changes()[1] == frozenset({"same"})
    manager.commit(loaded)
    again = manager.load(f"{manager.cookie.wire_name}={loaded.token}", CLIENT)
    assert dict(again) == {"cart": [1, 2, 3], "seen": {"a": 1}, "new": {"n": [1, 2]}, "gone": 2}
