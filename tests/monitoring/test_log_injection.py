"""Log and terminal injection (issue 9, item 11).

An unauthenticated request chose a JWT header member name; it went raw into the event's
``reason`` and from there to ``sessionward audit tail``: CR/LF forged whole audit lines and
escape sequences reached the operator's terminal. Reasons are fixed codes now; attacker text is
only in ``detail``, bounded; the CLI's text output escapes control characters.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from sessionward import ClientInfo, SessionManager, SQLiteStore
from sessionward.audit import AuditSink, SQLiteAuditLog
from sessionward.cli import cli
from sessionward.monitoring import EventKind
from sessionward.testing import FakeClock
from sessionward.tokens import InvalidToken
from tokens.helpers import World, forge, good_claims

FORGED_LINE = (
    "\r\n2026-12-01T00:00:00Z session.revoked user=admin reason=admin\x1b[2J\x1b]0;pwned\x07"
)


def test_an_unexpected_jwt_header_member_gives_a_fixed_reason_and_bounded_detail() -> None:
    world = World()
    key = world.keys.signing_key
    header = {"alg": key.algorithm, "typ": "at+jwt", "kid": key.kid, FORGED_LINE: 1}
    for n in range(20):
        header[f"x{n}" + "y" * 100] = n
    token = forge(header, good_claims(world.clock), key=key)
    with pytest.raises(InvalidToken):
        world.tokens.verify(token, ClientInfo(ip="203.0.113.9"))
    event = world.sink.events[-1]
    assert event.kind is EventKind.TOKEN_REJECTED
    assert event.reason == "header"
    members = event.detail["members"]
    assert FORGED_LINE[:32] in members
    assert len(members) <= 8 and all(len(name) <= 32 for name in members)


def test_audit_text_output_escapes_control_characters(tmp_path: Path) -> None:
    path = tmp_path / "sessions.sqlite3"
    store, audit = SQLiteStore(path), SQLiteAuditLog(path)
    try:
        manager = SessionManager(store, clock=FakeClock(4_000_000_000.0), sinks=[AuditSink(audit)])
        client = ClientInfo(ip="203.0.113.9", user_agent="curl")
        manager.emit(EventKind.LOGIN_FAILED, client=client, reason=FORGED_LINE, user_id=FORGED_LINE)
        for command in (["audit", "query"], ["audit", "tail", "-n", "5"]):
            result = CliRunner().invoke(cli, ["--store", f"sqlite://{path}", *command])
            assert result.exit_code == 0, result.output
            assert len(result.output.splitlines()) == 1  # no forged second line
            assert "\x1b" not in result.output and "\r" not in result.output
            assert "\x07" not in result.output
            assert "\\x1b[2J" in result.output and "\\r\\n" in result.output
    finally:
        store.close()
        audit.close()
