"""AsyncSQLiteStore runs uncontended calls on the event loop and contended ones in a thread."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import anyio
import pytest

from sessionward import AsyncSQLiteStore
from sessionward.core.session_tokens import new_handle, new_token, token_key
from sessionward.stores import RecordUpdate, SessionRecord
from sessionward.stores.sqlite_db import SQLiteDatabase, WouldBlock

pytestmark = pytest.mark.anyio
NOW = 1_800_000_000.0


def record() -> SessionRecord:
    return SessionRecord(
        key=token_key(new_token()),
        handle=new_handle(),
        user_id="alice",
        created_at=NOW,
        last_seen_at=NOW,
        expires_at=NOW + 600,
        data={"n": 0},
    )


async def test_a_write_blocked_by_another_connection_waits_in_a_thread(tmp_path: Path) -> None:
    store = AsyncSQLiteStore(tmp_path / "s.sqlite3")
    r = record()
    await store.create(r, now=NOW)
    other = sqlite3.connect(tmp_path / "s.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    done = anyio.Event()
    loop_ticks = 0

    async def write() -> None:
        await store.update(r.key, RecordUpdate(set_data={"n": 1}))
        done.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(write)
        for _ in range(20):  # the event loop keeps running while the write waits
            await anyio.sleep(0)
            loop_ticks += 1
        assert not done.is_set()
        other.execute("COMMIT")
        await done.wait()
    assert loop_ticks == 20
    stored = await store.get(r.key)
    assert stored is not None and stored.data == {"n": 1}
    other.close()
    await store.close()


async def test_a_no_wait_attempt_that_finds_the_lock_changes_nothing(tmp_path: Path) -> None:
    store = AsyncSQLiteStore(tmp_path / "s.sqlite3")
    r = record()
    await store.create(r, now=NOW)
    other = sqlite3.connect(tmp_path / "s.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(WouldBlock):
        store.sync.call_nowait(store.sync.update, r.key, RecordUpdate(set_data={"n": 5}))
    other.execute("ROLLBACK")
    # The failed attempt left no transaction open: the next write goes straight through.
    assert store.sync.call_nowait(store.sync.update, r.key, RecordUpdate(set_data={"n": 2}))
    stored = await store.get(r.key)
    assert stored is not None and stored.data == {"n": 2}
    other.close()
    await store.close()


async def test_a_busy_writer_of_this_process_sends_the_next_write_to_a_thread(
    tmp_path: Path,
) -> None:
    store = AsyncSQLiteStore(tmp_path / "s.sqlite3")
    r = record()
    await store.create(r, now=NOW)
    store.sync.db._write_lock.acquire()
    with pytest.raises(WouldBlock):
        store.sync.call_nowait(store.sync.delete, r.key)
    async with anyio.create_task_group() as tg:
        tg.start_soon(store.update, r.key, RecordUpdate(set_data={"n": 3}))
        await anyio.sleep(0)
        store.sync.db._write_lock.release()
    stored = await store.get(r.key)
    assert stored is not None and stored.data == {"n": 3}
    await store.close()


async def test_inline_writes_leave_checkpoints_to_a_worker_thread(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    store = AsyncSQLiteStore(path, checkpoint_every=50)
    checkpoints: list[bool] = []
    run_checkpoint = store.sync.checkpoint

    def spy() -> None:
        checkpoints.append(threading.current_thread() is threading.main_thread())
        run_checkpoint()

    store.sync.checkpoint = spy  # type: ignore[method-assign]
    r = record()
    await store.create(r, now=NOW)
    for i in range(2000):
        await store.update(r.key, RecordUpdate(set_data={"n": i, "pad": "x" * 200}))
    fast = store.sync.db._local.fast_conn
    assert fast.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    assert len(checkpoints) == 2001 // 50
    assert not any(checkpoints)  # never on the event loop's thread
    # Without them the WAL would hold every one of the 2000 writes (several MB).
    assert path.with_name(path.name + "-wal").stat().st_size < 1_500_000
    await store.close()


def test_a_no_wait_connection_that_cannot_open_yet_would_block(tmp_path: Path) -> None:
    # A file not yet in WAL mode, locked by another process (another instance creating it):
    # switching it to WAL must wait, so the event loop's no-wait attempt steps aside (the call
    # goes to a thread) instead of failing the request as an outage.
    path = tmp_path / "s.sqlite3"
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("CREATE TABLE t (x)")
    other.execute("BEGIN EXCLUSIVE")
    other.execute("INSERT INTO t VALUES (1)")
    db = SQLiteDatabase(path, busy_timeout=5.0, owner="test")

    def count(conn: sqlite3.Connection) -> int:
        return int(conn.execute("SELECT count(*) FROM t").fetchone()[0])

    with pytest.raises(WouldBlock):
        db.call_nowait(db.run, count, write=False)
    other.execute("COMMIT")
    assert db.call_nowait(db.run, count, write=False) == 1
    other.close()
    db.close()


def test_a_relative_path_names_the_file_of_the_directory_it_was_given_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Connections open lazily, in whatever thread needs one: a relative path must not follow
    # the process's working directory (a second, empty database somewhere else).
    first, later = tmp_path / "app", tmp_path / "elsewhere"
    first.mkdir()
    later.mkdir()
    monkeypatch.chdir(first)
    db = SQLiteDatabase("sessions.sqlite3", busy_timeout=5.0, owner="test")
    monkeypatch.chdir(later)
    db.run(lambda conn: conn.execute("CREATE TABLE t (x)"), write=True)
    db.close()
    assert list(later.iterdir()) == []
    table = sqlite3.connect(first / "sessions.sqlite3").execute("SELECT count(*) FROM t")
    assert table.fetchone() == (0,)
