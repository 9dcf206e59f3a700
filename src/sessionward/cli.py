"""``sessionward``: the operator's command line (extra ``cli``: click).

Works against any store given by URL (``--store`` or ``SESSIONWARD_STORE``): a SQLite file path
or ``sqlite:///path/to/file``, ``redis://`` / ``rediss://`` / ``unix://``, ``postgresql://``.
The audit log defaults to the same place (``--audit`` or ``SESSIONWARD_AUDIT`` to change it).
Revocations made here are recorded in the audit log as ``reason=admin``.

Exit codes, for scripts (also in ``docs/cli.md``)::

    0  success
    1  the session named by a handle does not exist
    2  usage error: bad option, bad URL, missing file
    3  the store or the audit log cannot be reached
    4  an optional dependency is missing (the message names the extra to install)
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, NoReturn

try:
    import click
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "the sessionward command needs click: pip install 'sessionward[cli]'"
    ) from exc

from ._cli_output import parse_since, print_entry, print_table, printable, session_dict
from .audit.base import AuditLog, AuditSink
from .core.events import EventKind
from .core.monitoring import Monitoring
from .core.renewal import is_stub
from .errors import SessionwardError, StoreUnavailable
from .manager import SessionManager
from .store_urls import open_audit_log, open_store
from .stores.base import Store

EXIT_OK = 0
EXIT_NOT_FOUND = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3
EXIT_MISSING_EXTRA = 4


class Failure(click.ClickException):
    """An error with a message for the operator and a documented exit code."""


class NotFound(Failure):
    exit_code = EXIT_NOT_FOUND


class Usage(Failure):
    exit_code = EXIT_USAGE


class Unavailable(Failure):
    exit_code = EXIT_UNAVAILABLE


class MissingExtra(Failure):
    exit_code = EXIT_MISSING_EXTRA


_FAILURES: dict[int, type[Failure]] = {
    EXIT_NOT_FOUND: NotFound,
    EXIT_USAGE: Usage,
    EXIT_UNAVAILABLE: Unavailable,
    EXIT_MISSING_EXTRA: MissingExtra,
}


def fail(message: str, exit_code: int) -> NoReturn:
    raise _FAILURES[exit_code](message)


# -- opening stores and audit logs by URL ---------------------------------------------------


@contextmanager
def _opening(what: str) -> Iterator[None]:
    try:
        yield
    except ImportError as exc:
        fail(str(exc), EXIT_MISSING_EXTRA)
    except StoreUnavailable as exc:
        fail(f"cannot reach the {what}: {exc}", EXIT_UNAVAILABLE)
    except ValueError as exc:  # ConfigurationError, or a driver refusing the URL
        fail(f"bad {what} URL or setting: {exc}", EXIT_USAGE)


class Context:
    """What the commands share: the URLs, and the store and log opened on first use."""

    def __init__(self, store_url: str | None, audit_url: str | None, prefix: str, schema: str):
        self.store_url = store_url
        self.audit_url = audit_url or store_url
        self.prefix = prefix
        self.schema = schema
        self._store: Store | None = None
        self._audit: AuditLog | None = None

    def store(self) -> Store:
        if self.store_url is None:
            fail("no store given: pass --store URL or set SESSIONWARD_STORE", EXIT_USAGE)
        if self._store is None:
            with _opening("store"):
                self._store = open_store(self.store_url, prefix=self.prefix, schema=self.schema)
        return self._store

    def audit(self) -> AuditLog:
        if self.audit_url is None:
            fail("no audit log given: pass --audit URL or set SESSIONWARD_AUDIT", EXIT_USAGE)
        if self._audit is None:
            with _opening("audit log"):
                self._audit = open_audit_log(self.audit_url, prefix=self.prefix, schema=self.schema)
        return self._audit

    def manager(self) -> SessionManager:
        """A manager whose events go to the audit log (a log that is down is a warning)."""
        sinks = []
        try:
            sinks.append(AuditSink(self.audit()))
        except Failure as exc:
            click.echo(f"warning: {exc.message}; this action will not be audited", err=True)
        return SessionManager(self.store(), sinks=sinks, monitoring=Monitoring(devices=None))

    def close(self) -> None:
        for thing in (self._store, self._audit):
            if thing is not None:
                with suppress(Exception):  # closing on exit; nothing left to protect
                    thing.close()


@contextmanager
def _unavailable(what: str = "store") -> Iterator[None]:
    try:
        yield
    except StoreUnavailable as exc:
        fail(f"cannot reach the {what}: {exc}", EXIT_UNAVAILABLE)
    except SessionwardError as exc:
        fail(str(exc), EXIT_USAGE)


# -- commands -------------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--store", "store_url", envvar="SESSIONWARD_STORE", help="Session store URL.")
@click.option(
    "--audit", "audit_url", envvar="SESSIONWARD_AUDIT", help="Audit log URL (default: --store)."
)
@click.option(
    "--prefix", default="sessionward", show_default=True, help="Redis key prefix of the store."
)
@click.option(
    "--schema", default="sessionward", show_default=True, help="PostgreSQL schema of the store."
)
@click.pass_context
def cli(
    ctx: click.Context, store_url: str | None, audit_url: str | None, prefix: str, schema: str
) -> None:
    """Inspect and revoke sessions, purge expired ones, read the audit log."""
    state = Context(store_url, audit_url, prefix, schema)
    ctx.obj = state
    ctx.call_on_close(state.close)


@cli.group()
def sessions() -> None:
    """List and show sessions."""


@sessions.command("list")
@click.option("--user", help="Only this user's sessions.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
@click.pass_obj
def list_sessions(state: Context, user: str | None, limit: int, as_json: bool) -> None:
    """Sessions, most recently seen first."""
    store = state.store()
    with _unavailable():
        records = store.list_by_user(user)[:limit] if user else store.list_all(limit=limit)
    now = time.time()
    # A renewal leaves a stub under the previous token for a few seconds: not a session.
    rows = [session_dict(r, now) for r in records if not is_stub(r)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        print_table(rows, ("handle", "user_id", "device", "last_ip", "created_at", "last_seen_at"))


# A handle may start with "-" (1 in 64 of those made before new_handle() stopped making such
# handles): read whatever is not one of the command's own options as the handle, and offer
# only --help, as a handle may hold an "h".
_HANDLE_ARGUMENT = {"ignore_unknown_options": True, "help_option_names": ["--help"]}


@sessions.command("show", context_settings=_HANDLE_ARGUMENT)
@click.argument("handle")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def show_session(state: Context, handle: str, as_json: bool) -> None:
    """One session by its public handle (never its data or token)."""
    with _unavailable():
        record = state.store().get_by_handle(handle)
    if record is None:
        fail(f"no session with handle {handle!r}", EXIT_NOT_FOUND)
    row = session_dict(record, time.time())
    if as_json:
        click.echo(json.dumps(row, indent=2))
        return
    for name, value in row.items():
        click.echo(f"{name:17} {printable(value) if value is not None else '-'}")


@cli.group()
def revoke() -> None:
    """End sessions now (recorded in the audit log as reason=admin)."""


@revoke.command("handle", context_settings=_HANDLE_ARGUMENT)
@click.argument("handle")
@click.pass_obj
def revoke_handle(state: Context, handle: str) -> None:
    """One session by its handle."""
    with _unavailable():
        done = state.manager().revoke(handle)
    if not done:
        fail(f"no session with handle {handle!r}", EXIT_NOT_FOUND)
    click.echo(f"revoked session {handle}")


@revoke.command("user")
@click.argument("user_id")
@click.pass_obj
def revoke_user(state: Context, user_id: str) -> None:
    """Every session of one user (e.g. a disabled account)."""
    with _unavailable():
        count = state.manager().revoke_user(user_id)
    click.echo(f"revoked {count} session(s) of {user_id}")


@revoke.command("everyone")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def revoke_everyone(state: Context, yes: bool) -> None:
    """Every session of every user: everybody must log in again."""
    if not yes:
        click.confirm("Log out every user of this store?", abort=True)
    with _unavailable():
        count = state.manager().revoke_all()
    click.echo(f"revoked {count} session(s)")


@cli.command()
@click.pass_obj
def purge(state: Context) -> None:
    """Delete expired sessions (stores with TTLs do this themselves; this is a sweep)."""
    with _unavailable():
        count = state.manager().purge_expired()
    click.echo(f"purged {count} expired session(s)")


@cli.group()
def audit() -> None:
    """Read the audit log."""


@audit.command("query")
@click.option("--user", help="Events of this user (their login history).")
@click.option("--session", "handle", help="Events of this session handle.")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice([k.value for k in EventKind]),
    help="Only these kinds (repeatable).",
)
@click.option("--since", help="Only events since: 24h, 7d, 30m, or an ISO time.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_obj
def audit_query(
    state: Context,
    user: str | None,
    handle: str | None,
    kinds: tuple[str, ...],
    since: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Matching events, newest first."""
    start = None if since is None else parse_since(since, time.time())
    log = state.audit()
    with _unavailable("audit log"):
        entries = log.query(
            user_id=user,
            handle=handle,
            kinds={EventKind(k) for k in kinds} if kinds else None,
            since=start,
            limit=limit,
        )
    for entry in entries:
        print_entry(entry, as_json)


@audit.command("tail")
@click.option("-n", "--lines", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.option("-f", "--follow", is_flag=True, help="Keep printing new events.")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between polls.")
@click.option("--polls", type=int, default=None, hidden=True)  # bounds --follow in tests
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_obj
def audit_tail(
    state: Context, lines: int, follow: bool, interval: float, polls: int | None, as_json: bool
) -> None:
    """The latest events, oldest first; with --follow, then new ones as they arrive."""
    log = state.audit()
    with _unavailable("audit log"):
        entries = log.tail(limit=lines)
    for entry in entries:
        print_entry(entry, as_json)
    cursor = entries[-1].id if entries else None
    done = 0
    while follow and (polls is None or done < polls):
        time.sleep(interval)
        done += 1
        with _unavailable("audit log"):
            fresh = log.tail(after=cursor, limit=1000) if cursor else log.tail(limit=1000)
        for entry in fresh:
            print_entry(entry, as_json)
        if fresh:
            cursor = fresh[-1].id


@cli.command("check")
@click.argument("target", required=False)
@click.option("--manager", "manager", help="module:attribute of a session manager (or factory).")
@click.option("--factory", is_flag=True, help="TARGET is a factory: call it to get the app.")
@click.option("--deploy", is_flag=True, help="Add the production-only checks.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
def check(
    target: str | None, manager: str | None, factory: bool, deploy: bool, as_json: bool
) -> None:
    """Check an app's sessionward configuration (findings SW001..., see docs/check.md).

    Exit code: 0 nothing above info, 1 warnings, 2 the app cannot be imported, 5 errors.
    """
    from .checks.report import run

    code = run(target, manager, factory=factory, deploy=deploy, as_json=as_json, echo=click.echo)
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """The console entry point; returns the exit code."""
    # The PostgreSQL pool logs every failed connection attempt; the error we print says it.
    logging.getLogger("psycopg.pool").setLevel(logging.CRITICAL)
    runner: Callable[..., Any] = cli.main
    try:
        runner(args=list(argv) if argv is not None else None, prog_name="sessionward")
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
