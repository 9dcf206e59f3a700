"""The WSGI middleware over the synchronous manager: the same basic flow, no event loop."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx
import pytest

from sessionward import Session, SessionManager, SessionPolicy, SQLiteStore, StoreUnavailable
from sessionward.integrations.wsgi import ENVIRON_KEY, WSGISessionMiddleware
from sessionward.monitoring import MemorySink
from sessionward.testing import FakeClock


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    session: Session = environ[ENVIRON_KEY]
    path = environ["PATH_INFO"]
    if path == "/login":
        session.login("alice")
    elif path == "/logout":
        session.logout()
    elif path == "/count":
        session["n"] = session.get("n", 0) + 1
    body = json.dumps({"user": session.user_id, "n": session.get("n")}).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Cache-Control", "public, max-age=60")]
    )
    return [body]


@pytest.fixture
def setup(tmp_path: Path) -> tuple[httpx.Client, SessionManager, FakeClock, MemorySink]:
    clock, sink = FakeClock(), MemorySink()
    manager = SessionManager(
        SQLiteStore(tmp_path / "s.sqlite3"),
        clock=clock,
        sinks=[sink],
        policy=SessionPolicy(idle_timeout=300),
    )
    wrapped = WSGISessionMiddleware(app, manager=manager)
    client = httpx.Client(transport=httpx.WSGITransport(app=wrapped), base_url="https://wsgi.test")
    return client, manager, clock, sink


def test_wsgi_counter_login_rotation_logout(setup: Any) -> None:
    client, _, _, sink = setup
    assert client.get("/count").json() == {"user": None, "n": 1}
    anon = client.cookies.get("__Host-session")
    assert client.get("/count").json() == {"user": None, "n": 2}
    assert client.post("/login").json() == {"user": "alice", "n": 2}
    authed = client.cookies.get("__Host-session")
    assert authed != anon
    response = client.get("/count")
    assert response.json() == {"user": "alice", "n": 3}
    assert response.headers["cache-control"] == "no-store"
    logout = client.post("/logout")
    assert logout.json() == {"user": None, "n": None}
    assert "clear-site-data" in logout.headers
    client.cookies.set("__Host-session", authed, domain="wsgi.test")
    assert client.get("/").json() == {"user": None, "n": None}
    assert sink.kinds()[-1] == "session.id.unknown"


def test_wsgi_idle_expiry(setup: Any) -> None:
    client, _, clock, sink = setup
    client.post("/login")
    clock.advance(301)
    assert client.get("/").json()["user"] is None
    assert "session.expired.idle" in sink.kinds()


def test_store_failure_is_503_not_500(tmp_path: Path) -> None:
    class DownStore(SQLiteStore):
        def get(self, key: str) -> Any:
            raise StoreUnavailable("down for the test")

    manager = SessionManager(DownStore(tmp_path / "d.sqlite3"), sinks=[])
    client = httpx.Client(
        transport=httpx.WSGITransport(app=WSGISessionMiddleware(app, manager=manager)),
        base_url="https://wsgi.test",
    )
    response = client.get("/", headers={"cookie": "__Host-session=" + "A" * 43})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
