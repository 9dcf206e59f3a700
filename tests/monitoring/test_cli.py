"""The admin CLI against real stores (SQLite always, Redis and PostgreSQL when running)."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from conftest import require_service
from distributed.services import POSTGRES_URL, REDIS_URL, postgres_problem, redis_problem
from sessionward import ClientInfo, SessionManager, SQLiteStore
from sessionward.audit import AuditSink, SQLiteAuditLog
from sessionward.cli import cli, main, parse_since
from sessionward.monitoring import EventKind
from sessionward.testing import FakeClock

from .helpers import HOME, IPHONE, logged_in

LIVE = 4_000_000_000.0  # 2096: sessions made "then" are live for the CLI's real clock
PAST = 1_000_000_000.0  # 2001: long expired


@dataclass
class Target:
    args: list[str]
    store: Any
    audit: Any

    def manager(self, start: float) -> SessionManager:
        return SessionManager(self.store, clock=FakeClock(start), sinks=[AuditSink(self.audit)])


def sqlite_target(tmp: Path) -> Iterator[Target]:
    path = tmp / "sessions.sqlite3"
    # The automatic purge is off: these tests look at what the commands themselves do.
    store, audit = SQLiteStore(path, purge_interval=None), SQLiteAuditLog(path)
    yield Target(["--store", f"sqlite://{path}"], store, audit)
    store.close()
    audit.close()


def redis_target(tmp: Path) -> Iterator[Target]:
    require_service("redis", redis_problem())
    from sessionward.audit.redis import RedisAuditLog
    from sessionward.stores.redis import RedisStore

    prefix = f"swtest-cli-{uuid.uuid4().hex[:10]}"
    store = RedisStore(url=REDIS_URL, prefix=prefix)
    audit = RedisAuditLog(url=REDIS_URL, prefix=prefix)
    yield Target(["--store", REDIS_URL, "--prefix", prefix], store, audit)
    store.delete_all()
    audit.clear()
    store.close()
    audit.close()


def postgres_target(tmp: Path) -> Iterator[Target]:
    require_service("postgres", postgres_problem())
    import psycopg

    from sessionward.audit.postgres import PostgresAuditLog
    from sessionward.stores.postgres import PostgresStore

    schema = f"swtest_cli_{uuid.uuid4().hex[:10]}"
    store = PostgresStore(POSTGRES_URL, schema=schema, purge_interval=None)
    audit = PostgresAuditLog(POSTGRES_URL, schema=schema)
    yield Target(["--store", POSTGRES_URL, "--schema", schema], store, audit)
    store.close()
    audit.close()
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


TARGETS = {"sqlite": sqlite_target, "redis": redis_target, "postgres": postgres_target}


@pytest.fixture(params=sorted(TARGETS))
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    yield from TARGETS[request.param](tmp_path)


def run(target: Target, *args: str) -> Result:
    return CliRunner().invoke(cli, [*target.args, *args], catch_exceptions=False)


def handles(result: Result) -> list[str]:
    return [row["handle"] for row in json.loads(result.output)]


def test_list_show_and_revoke_by_handle(target: Target) -> None:
    manager = target.manager(LIVE)
    logged_in(manager, "alice")
    logged_in(manager, "alice", ClientInfo(ip="198.51.100.3", user_agent=IPHONE))
    logged_in(manager, "bob")
    everyone = run(target, "sessions", "list", "--json")
    assert everyone.exit_code == 0, everyone.output
    assert len(handles(everyone)) == 3
    alices = json.loads(run(target, "sessions", "list", "--user", "alice", "--json").output)
    assert {row["user_id"] for row in alices} == {"alice"}
    assert {row["device"] for row in alices} == {
        "Firefox 130 on Linux",
        "Mobile Safari 17 on iOS 17 (iPhone)",
    }
    table = run(target, "sessions", "list")
    assert "HANDLE" in table.output and "bob" in table.output
    handle = alices[0]["handle"]
    shown = run(target, "sessions", "show", handle)
    assert shown.exit_code == 0 and f"handle            {handle}" in shown.output
    assert json.loads(run(target, "sessions", "show", handle, "--json").output)["ip"]
    revoked = run(target, "revoke", "handle", handle)
    assert revoked.exit_code == 0, revoked.output
    assert run(target, "sessions", "show", handle).exit_code == 1
    assert run(target, "revoke", "handle", handle).exit_code == 1
    events = target.audit.query(kinds={EventKind.REVOKED})
    assert [(e.event.handle, e.event.reason) for e in events] == [(handle, "admin")]


@pytest.mark.parametrize("handle", ["-hAbcdefghijklmnopqrst", "--json_bcdefghijklmnop"])
def test_a_handle_that_starts_with_a_dash_is_a_handle_not_an_option(
    target: Target, handle: str
) -> None:
    # Handles made before new_handle() avoided a leading "-" had 1 chance in 64 of one: it
    # must still be shown and revoked as written, not read as options (-h: the help).
    manager = target.manager(LIVE)
    logged_in(manager, "alice")
    record = target.store.list_by_user("alice")[0]
    target.store.delete(record.key)
    target.store.create(record.evolve(handle=handle), now=LIVE)
    shown = run(target, "sessions", "show", handle)
    assert shown.exit_code == 0 and f"handle            {handle}" in shown.output
    assert json.loads(run(target, "sessions", "show", handle, "--json").output)["handle"] == handle
    revoked = run(target, "revoke", "handle", handle)
    assert revoked.exit_code == 0 and revoked.output.strip() == f"revoked session {handle}"
    assert target.store.get(record.key) is None


def test_new_handles_never_start_with_a_dash() -> None:
    from sessionward.core.session_tokens import is_well_formed_handle, new_handle

    handles = [new_handle() for _ in range(3000)]  # ~47 would start with "-" by chance
    assert all(is_well_formed_handle(h) and not h.startswith("-") for h in handles)


def test_revoke_user_and_everyone(target: Target) -> None:
    manager = target.manager(LIVE)
    for user in ("alice", "alice", "bob", "carol"):
        logged_in(manager, user)
    result = run(target, "revoke", "user", "alice")
    assert result.output.strip() == "revoked 2 session(s) of alice"
    assert len(handles(run(target, "sessions", "list", "--json"))) == 2
    refused = CliRunner().invoke(cli, [*target.args, "revoke", "everyone"], input="n\n")
    assert refused.exit_code == 1  # click's Abort
    assert len(handles(run(target, "sessions", "list", "--json"))) == 2
    assert run(target, "revoke", "everyone", "--yes").output.strip() == "revoked 2 session(s)"
    assert handles(run(target, "sessions", "list", "--json")) == []


def test_purge_removes_only_expired_sessions(target: Target) -> None:
    logged_in(target.manager(PAST), "old")
    logged_in(target.manager(LIVE), "new")
    # Redis drops the expired record by its TTL already; the others need the sweep.
    assert run(target, "purge").output.strip() in (
        "purged 1 expired session(s)",
        "purged 0 expired session(s)" if "--prefix" in target.args else "",
    )
    rows = json.loads(run(target, "sessions", "list", "--json").output)
    assert [row["user_id"] for row in rows] == ["new"]


def test_audit_query_and_tail(target: Target) -> None:
    manager = target.manager(LIVE)
    logged_in(manager, "alice")
    manager.emit(EventKind.LOGIN_FAILED, client=HOME, reason="bad password", user_id="alice")
    logged_in(manager, "bob")
    history = run(target, "audit", "query", "--user", "alice", "--json")
    assert [json.loads(line)["kind"] for line in history.output.splitlines()] == [
        "login.failed",
        "login.succeeded",
    ]
    logins = run(target, "audit", "query", "--kind", "login.succeeded")
    lines = logins.output.splitlines()
    assert len(lines) == 2 and "user=bob" in lines[0] and "device=Firefox 130 on Linux" in lines[0]
    handle = json.loads(history.output.splitlines()[1])["handle"]
    session = run(target, "audit", "query", "--session", handle, "--json")
    assert [json.loads(line)["handle"] for line in session.output.splitlines()] == [handle]
    tail = run(target, "audit", "tail", "-n", "2", "--json")
    assert [json.loads(line)["kind"] for line in tail.output.splitlines()] == [
        "login.failed",
        "login.succeeded",
    ]
    since = run(target, "audit", "query", "--since", "2090-01-01T00:00:00")
    assert len(since.output.splitlines()) == 3
    assert run(target, "audit", "query", "--since", "2097-01-01").output == ""


def test_tail_follow_prints_new_events(target: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    manager = target.manager(LIVE)
    logged_in(manager, "alice")
    polls: list[float] = []

    def fake_sleep(seconds: float) -> None:  # a poll: something happens meanwhile
        polls.append(seconds)
        logged_in(manager, f"user{len(polls)}")

    monkeypatch.setattr("sessionward.cli.time.sleep", fake_sleep)
    result = run(target, "audit", "tail", "--follow", "--polls", "2", "--json")
    users = [json.loads(line)["user_id"] for line in result.output.splitlines()]
    assert users == ["alice", "user1", "user2"]


def test_bad_urls_and_missing_files_are_usage_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(cli, ["--store", "mysql://x", "sessions", "list"])
    assert bad.exit_code == 2 and "unsupported URL scheme 'mysql'" in bad.output
    missing = runner.invoke(cli, ["--store", str(tmp_path / "nope.db"), "sessions", "list"])
    assert missing.exit_code == 2 and "no SQLite database" in missing.output
    assert not (tmp_path / "nope.db").exists()
    none = runner.invoke(cli, ["sessions", "list"], env={"SESSIONWARD_STORE": None})
    assert none.exit_code == 2 and "--store" in none.output


def test_the_store_can_come_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    SQLiteStore(path).close()
    result = CliRunner().invoke(cli, ["sessions", "list"], env={"SESSIONWARD_STORE": str(path)})
    assert result.exit_code == 0 and "(none)" in result.output


def test_an_unreachable_store_exits_3() -> None:
    require_service("redis", redis_problem())  # needs redis-py, not a server on port 1
    result = CliRunner().invoke(
        cli, ["--store", "redis://127.0.0.1:1/0", "sessions", "list"], catch_exceptions=False
    )
    assert result.exit_code == 3
    assert "cannot reach the store" in result.output
    audit = CliRunner().invoke(cli, ["--store", "redis://127.0.0.1:1/0", "audit", "tail"])
    assert audit.exit_code == 3
    assert "cannot reach the audit log" in audit.output


def test_an_unreachable_audit_log_still_revokes_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    store = SQLiteStore(path)
    manager = SessionManager(store, clock=FakeClock(LIVE), sinks=[])
    logged_in(manager, "alice")
    result = CliRunner().invoke(
        cli,
        ["--store", str(path), "--audit", str(tmp_path / "gone.db"), "revoke", "user", "alice"],
    )
    assert result.exit_code == 0
    assert "will not be audited" in result.output
    assert store.list_by_user("alice") == []


def test_a_missing_driver_exits_4(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sessionward.stores.redis", None)
    result = CliRunner().invoke(cli, ["--store", "redis://127.0.0.1:6379/0", "sessions", "list"])
    assert result.exit_code == 4


def test_main_returns_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert main(["--store", "ftp://x", "purge"]) == 2
    assert "unsupported" in capsys.readouterr().err


def test_durations_and_times_for_since() -> None:
    assert parse_since("2h", 10_000.0) == 10_000.0 - 7200
    assert parse_since("7d", 1e6) == 1e6 - 7 * 86400
    assert parse_since("2026-01-01T00:00:00Z", 0) == 1767225600.0


def test_renewal_stubs_are_not_listed_or_counted(tmp_path: Path) -> None:
    from sessionward import SessionPolicy
    from sessionward.metrics import active_sessions

    path = tmp_path / "sessions.sqlite3"
    store = SQLiteStore(path)
    clock = FakeClock(LIVE)
    policy = SessionPolicy(renew_interval=60, renewal_grace=30)
    manager = SessionManager(store, clock=clock, sinks=[], policy=policy)
    cookie = logged_in(manager, "alice")
    clock.advance(61)
    renewed = manager.load(cookie, HOME)
    manager.commit(renewed)  # renews: the record moves, a stub stays under the old token
    assert len(store.list_all()) == 2
    listed = CliRunner().invoke(cli, ["--store", f"sqlite://{path}", "sessions", "list", "--json"])
    assert [row["user_id"] for row in json.loads(listed.output)] == ["alice"]
    assert active_sessions(store, clock=clock)() == 1.0
    store.close()
