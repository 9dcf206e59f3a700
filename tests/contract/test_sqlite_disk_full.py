"""A full disk on SQLite: writes answer 503 (StoreUnavailable), reads go on, nothing breaks.

``PRAGMA max_page_count`` makes SQLite report SQLITE_FULL ("database or disk is full") exactly
as a full file system would, without filling one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sessionward import SQLiteStore
from sessionward.core.session_tokens import new_handle, new_token, token_key
from sessionward.errors import StoreUnavailable
from sessionward.stores import RecordUpdate, SessionRecord

T0 = 1_800_000_000.0


def record(**data: str) -> SessionRecord:
    return SessionRecord(
        key=token_key(new_token()),
        handle=new_handle(),
        user_id="ann",
        created_at=T0,
        last_seen_at=T0,
        expires_at=T0 + 600,
        data=dict(data),
    )


def test_a_full_disk_fails_writes_with_503_and_reads_go_on(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite3", purge_interval=None)
    kept = record(note="hello")
    store.create(kept, now=T0)
    conn = store.db.conn()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count={pages}")  # the disk is full from now on

    with pytest.raises(StoreUnavailable, match="full"):
        store.create(record(blob="x" * 200_000), now=T0)
    with pytest.raises(StoreUnavailable, match="full"):
        store.update(kept.key, RecordUpdate(set_data={"blob": "y" * 200_000}))
    found = store.get(kept.key)  # logged-in pages that only read keep working
    assert found is not None and found.data == {"note": "hello"}

    conn.execute("PRAGMA max_page_count=1073741823")  # space freed: writes work again
    store.create(record(blob="z" * 200_000), now=T0)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store.close()
