"""[cli]: the ``sessionward`` command lists and revokes sessions in a SQLite store."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from _drive import check

from sessionward import ClientInfo, SessionManager, SQLiteStore

path = Path(tempfile.mkdtemp()) / "s.sqlite3"
manager = SessionManager(SQLiteStore(path))
manager.login(manager.new_session(ClientInfo(ip="127.0.0.1")), "alice")
command = Path(sys.executable).with_name("sessionward")


def run(*args: str) -> str:
    done = subprocess.run(
        [str(command), "--store", str(path), *args], capture_output=True, text=True, check=False
    )
    check(done.returncode == 0, f"sessionward {' '.join(args)}: {done.stderr}")
    return done.stdout


listed = json.loads(run("sessions", "list", "--json"))
check([s["user_id"] for s in listed] == ["alice"], f"unexpected list {listed}")
run("revoke", "user", "alice")
check(json.loads(run("sessions", "list", "--json")) == [], "revoke left sessions behind")
