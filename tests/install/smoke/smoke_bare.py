"""Bare install: sessionward imports, a WSGI app and an async SQLite store work, and each
optional module names its extra."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import tempfile
from pathlib import Path
from typing import Any

from _drive import check, login_logout, missing_extra, wsgi_call

import sessionward
import sessionward.checks
import sessionward.testing
from sessionward import AsyncSQLiteStore, SessionManager, SQLiteStore
from sessionward.integrations.wsgi import ENVIRON_KEY, WSGISessionMiddleware

check(importlib.util.find_spec("anyio") is None, "anyio is installed: not a bare environment")
tmp = Path(tempfile.mkdtemp())


def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    session = environ[ENVIRON_KEY]
    if environ["PATH_INFO"] == "/login":
        session.login("alice")
    elif environ["PATH_INFO"] == "/logout":
        session.logout()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [(session.user_id or "anonymous").encode()]


wrapped = WSGISessionMiddleware(app, manager=SessionManager(SQLiteStore(tmp / "s.sqlite3")))
login_logout(lambda method, path, cookie: wsgi_call(wrapped, method, path, cookie))
findings = sessionward.checks.check_app(wrapped)
check({f.id for f in findings} == {"SW007", "SW021"}, f"unexpected findings {findings}")


async def async_store() -> None:
    # The async store leaves the event loop through asyncio.to_thread when anyio is absent.
    store = AsyncSQLiteStore(tmp / "a.sqlite3")
    check(await store.list_all() == [], "a new store is not empty")
    check(await store.purge_expired(0.0) == 0, "nothing to purge in a new store")
    await store.close()


asyncio.run(async_store())

for module, extra in {
    "sessionward.integrations.flask": "flask",
    "sessionward.integrations.fastapi": "fastapi",
    "sessionward.stores.redis": "redis",
    "sessionward.stores.postgres": "postgres",
    "sessionward.tokens": "jwt",
    "sessionward.binding": "jwt",
    "sessionward.integrations.django": "django",
    "sessionward.metrics": "metrics",
    "sessionward.cli": "cli",
    "sessionward.demo": "demo",
}.items():
    missing_extra(module, extra)
print(json.dumps({"version": sessionward.__version__, "public_names": len(sessionward.__all__)}))
