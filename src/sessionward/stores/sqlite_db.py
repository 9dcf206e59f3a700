"""One SQLite file shared by threads and processes: the plumbing every SQLite backend uses.

The session store, the refresh-token store and the audit log all keep their tables in SQLite
(usually the same file). They share this one implementation of the parts that are easy to get
subtly wrong:

* the file is created with mode 0600 (it holds session metadata);
* each thread has its own connection in WAL mode, so readers never wait for writers;
* writers of this process queue on a lock instead of spinning in SQLite's busy handler (which
  sleeps in growing steps and made p99 latency explode under 32 writers), and wait for other
  processes at most ``busy_timeout`` seconds; past that the call raises ``StoreUnavailable``;
* every write is one ``BEGIN IMMEDIATE`` transaction, rolled back if anything in it fails,
  COMMIT included, so a connection is never left inside a transaction;
* a *no-wait* mode (:meth:`SQLiteDatabase.call_nowait`) lets an event loop run an uncontended
  call inline and hand a contended one to a thread;
* schemas carry a version table, and a database newer than the code is refused.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar, ParamSpec, TypedDict, TypeVar

from ..errors import ConfigurationError, StoreUnavailable
from .sweeper import DEFAULT_BATCH, DEFAULT_INTERVAL, GRACE, Sweeper

T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R")


class WouldBlock(Exception):
    """A no-wait call found the database busy; nothing was changed."""


def _is_lock(exc: sqlite3.Error) -> bool:
    """Whether SQLite refused because another connection holds a lock (worth waiting out)."""
    text = str(exc)
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


class SQLiteDatabase:
    """Connections, transactions and migrations for one SQLite file."""

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float, owner: str) -> None:
        if not isinstance(path, str | os.PathLike) or str(path) in ("", ":memory:"):
            raise ConfigurationError(
                f"{owner} needs a file path (':memory:' would give every thread its own empty "
                f"database); use the memory implementation for an in-process one"
            )
        if isinstance(busy_timeout, bool) or not busy_timeout > 0:
            raise ConfigurationError("busy_timeout must be a positive number of seconds")
        self.path = Path(path).absolute()  # connections open later, maybe elsewhere
        self.busy_timeout = float(busy_timeout)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._write_lock = threading.Lock()
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))

    def conn(self, *, nowait: bool = False) -> sqlite3.Connection:
        """This thread's connection; with ``nowait``, one that never waits for a lock."""
        name = "fast_conn" if nowait else "conn"
        conn: sqlite3.Connection | None = getattr(self._local, name, None)
        if conn is None:
            timeout = 0.0 if nowait else self.busy_timeout
            try:
                conn = sqlite3.connect(
                    self.path, timeout=timeout, isolation_level=None, check_same_thread=False
                )
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"cannot open SQLite database {self.path}: {exc}") from exc
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
                if nowait:
                    # The no-wait connection serves an event loop: it never runs a WAL
                    # checkpoint (an fsync) itself; see AsyncSQLiteStore.
                    conn.execute("PRAGMA wal_autocheckpoint=0")
            except sqlite3.Error as exc:
                conn.close()
                if nowait and _is_lock(exc):
                    # A file another connection is still switching to WAL (or holds locked
                    # before it is in WAL mode): this attempt steps aside, as for any lock.
                    raise WouldBlock from exc
                raise StoreUnavailable(f"cannot open SQLite database {self.path}: {exc}") from exc
            setattr(self._local, name, conn)
            with self._all_lock:
                self._all.append(conn)
        return conn

    def release_thread(self) -> None:
        """Close this thread's connections (a short-lived thread, such as a purge round)."""
        for name in ("conn", "fast_conn"):
            conn: sqlite3.Connection | None = getattr(self._local, name, None)
            if conn is not None:
                setattr(self._local, name, None)
                with self._all_lock:
                    if conn in self._all:
                        self._all.remove(conn)
                conn.close()

    def call_nowait(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Call ``fn`` (which uses :meth:`run`) only if it can proceed without waiting.

        Raises :class:`WouldBlock`, having changed nothing, when another writer of this process
        or another process holds the write lock.
        """
        self._local.nowait = True
        try:
            return fn(*args, **kwargs)
        finally:
            self._local.nowait = False

    def run(self, fn: Callable[[sqlite3.Connection], T], *, write: bool, single: bool = False) -> T:
        """Run ``fn`` on this thread's connection: a write in one transaction, retried while
        another process holds the lock; a read as a single autocommit statement.

        ``single``: the write is one statement, atomic on its own in autocommit mode, so it
        runs without ``BEGIN IMMEDIATE`` / ``COMMIT`` around it (two statements fewer); it
        still queues on this process's write lock like every other write.
        """
        nowait: bool = getattr(self._local, "nowait", False)
        if not write:
            return self._attempts(fn, write=False, nowait=nowait)
        if nowait:
            if not self._write_lock.acquire(blocking=False):
                raise WouldBlock
        elif not self._write_lock.acquire(timeout=self.busy_timeout):
            raise StoreUnavailable(f"SQLite stayed locked for {self.busy_timeout}s")
        try:
            return self._attempts(fn, write=not single, nowait=nowait)
        finally:
            self._write_lock.release()

    def _attempts(self, fn: Callable[[sqlite3.Connection], T], *, write: bool, nowait: bool) -> T:
        # write=False: fn is one statement in autocommit (a read, or a single-statement write).
        conn = self.conn(nowait=nowait)
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                return self._once(conn, fn, write=write)
            except sqlite3.IntegrityError:
                raise  # a constraint the caller turns into its own error, not an outage
            except sqlite3.OperationalError as exc:
                if not _is_lock(exc):
                    raise StoreUnavailable(f"SQLite error: {exc}") from exc
                if nowait:
                    raise WouldBlock from exc
                if time.monotonic() >= deadline:
                    raise StoreUnavailable(
                        f"SQLite stayed locked for {self.busy_timeout}s"
                    ) from exc
                time.sleep(0.005)
            except sqlite3.DatabaseError as exc:
                raise StoreUnavailable(f"SQLite error: {exc}") from exc

    @staticmethod
    def _once(conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T], *, write: bool) -> T:
        if not write:
            # A single statement (every read, and the single-statement writes) is atomic on
            # its own in autocommit mode: no BEGIN/COMMIT round of statements around it.
            return fn(conn)
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(conn)
            conn.execute("COMMIT")
        except BaseException:
            # Also when COMMIT itself failed: never leave a transaction open on the connection.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return result

    def migrate(self, schema: str, *, version_table: str, version: int) -> None:
        """Create the tables of ``schema`` unless ``version_table`` already says ``version``."""

        def migrate(conn: sqlite3.Connection) -> None:
            exists = conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?",
                (version_table,),
            ).fetchone()
            if exists is not None:
                found = conn.execute(
                    f"SELECT max(version) FROM {version_table}"  # noqa: S608 (our constant)
                ).fetchone()[0]
                if found is not None and found > version:
                    raise ConfigurationError(
                        f"{self.path} has {version_table} version {found}, newer than this "
                        f"sessionward ({version}); upgrade sessionward"
                    )
                if found == version:
                    return
            conn.execute(f"CREATE TABLE IF NOT EXISTS {version_table} (version INTEGER NOT NULL)")
            for statement in schema.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"DELETE FROM {version_table}")  # noqa: S608 (our constant)
            conn.execute(
                f"INSERT INTO {version_table} (version) VALUES (?)",  # noqa: S608 (our constant)
                (version,),
            )

        self.run(migrate, write=True)

    def checkpoint(self) -> None:
        """Copy committed WAL pages into the database file without waiting for readers."""
        self.conn().execute("PRAGMA wal_checkpoint(PASSIVE)")

    def close(self) -> None:
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()


_LEASES = (
    "CREATE TABLE IF NOT EXISTS sessionward_leases "
    "(name TEXT PRIMARY KEY, holder TEXT NOT NULL, until REAL NOT NULL) STRICT"
)
_TAKE_LEASE = (
    "INSERT INTO sessionward_leases (name, holder, until) VALUES (?, ?, ?) "
    "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until "
    "WHERE sessionward_leases.until <= ? OR sessionward_leases.holder = excluded.holder"
)


def take_lease(conn: sqlite3.Connection, name: str, holder: str, now: float, until: float) -> bool:
    """Take or renew the lease ``name`` inside the caller's write transaction.

    False when another holder's lease has not lapsed yet: the automatic purge uses it so that
    one process sweeps at a time (:mod:`sessionward.stores.sweeper`).
    """
    conn.execute(_LEASES)
    return conn.execute(_TAKE_LEASE, (name, holder, until, now)).rowcount == 1


class SQLiteOptions(TypedDict, total=False):
    """The keyword options of :class:`SQLiteBackend`, for wrappers that pass them on."""

    busy_timeout: float
    purge_interval: float | None
    purge_batch: int
    purge_grace: float


class SQLiteBackend:
    """The constructor the SQLite session and token stores share: file, schema, automatic purge.

    A subclass names its sweep (``sweep_name``), its schema script and version table, and
    implements ``_sweep`` (one purge batch).
    """

    sweep_name: ClassVar[str]
    schema: ClassVar[str]
    version_table: ClassVar[str]
    version: ClassVar[int] = 1

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 5.0,
        purge_interval: float | None = DEFAULT_INTERVAL,
        purge_batch: int = DEFAULT_BATCH,
        purge_grace: float = GRACE,
    ) -> None:
        self.sweeper = Sweeper(
            self.sweep_name,
            self._sweep,
            interval=purge_interval,
            batch=purge_batch,
            grace=purge_grace,
            thread_done=lambda: self.db.release_thread(),
        )
        self.db = SQLiteDatabase(path, busy_timeout=busy_timeout, owner=type(self).__name__)
        self.path = self.db.path
        self.busy_timeout = self.db.busy_timeout
        self.db.migrate(self.schema, version_table=self.version_table, version=self.version)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    def _sweep(self, now: float, batch: int, holder: str, until: float) -> int | None:
        raise NotImplementedError
