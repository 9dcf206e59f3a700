"""Flask: ``flask.session`` is a sessionward session, with the same guarantees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import flask
import pytest
from werkzeug.test import create_environ, run_wsgi_app
from werkzeug.wrappers import Response

from sessionward import SessionManager, SessionPolicy, SQLiteStore, StoreUnavailable
from sessionward.core.session_tokens import session_key
from sessionward.integrations.flask import Sessionward, current_session
from sessionward.monitoring import MemorySink
from sessionward.testing import FakeClock

COOKIE = "__Host-session"


def make_app(manager: SessionManager) -> flask.Flask:
    app = flask.Flask(__name__)
    app.secret_key = "flask needs one for its session; sessionward does not use it"
    Sessionward(app, manager)

    @app.get("/")
    def home() -> Any:
        session = current_session()
        return {"user": session.user_id, "n": flask.session.get("n")}

    @app.post("/count")
    def count() -> Any:
        flask.session["n"] = flask.session.get("n", 0) + 1
        return {"n": flask.session["n"]}

    @app.post("/login")
    def login() -> Any:
        current_session().login("alice")
        return flask.redirect("/")

    @app.post("/logout")
    def logout() -> Any:
        current_session().logout()
        return flask.redirect("/")

    @app.get("/static-ish")
    def plain() -> Any:
        return "no session used"

    return app


def raw_get(app: flask.Flask, cookie_header: str) -> Response:
    """GET / with exactly this Cookie header (the test client would rewrite it from its jar)."""
    environ = create_environ("/", "https://flask.test/")
    environ["HTTP_COOKIE"] = cookie_header
    body, status, headers = run_wsgi_app(app, environ)
    return Response(b"".join(body), status=status, headers=headers)


@pytest.fixture
def env(tmp_path: Path) -> tuple[flask.Flask, SessionManager, FakeClock, MemorySink]:
    clock, sink = FakeClock(), MemorySink()
    manager = SessionManager(
        SQLiteStore(tmp_path / "f.sqlite3"),
        clock=clock,
        sinks=[sink],
        policy=SessionPolicy(idle_timeout=300),
    )
    return make_app(manager), manager, clock, sink


def test_flask_login_flow_rotates_and_logout_kills(env: Any) -> None:
    app, manager, _, sink = env
    client = app.test_client()
    assert client.post("/count").json == {"n": 1}
    anon = client.get_cookie(COOKIE)
    assert anon is not None and anon.secure and anon.http_only
    response = client.post("/login")
    assert response.status_code == 302
    authed = client.get_cookie(COOKIE)
    assert authed is not None and authed.value != anon.value
    assert manager.store.get(session_key(anon.value)) is None
    home = client.get("/")
    assert home.json == {"user": "alice", "n": 1}
    assert home.headers["Cache-Control"] == "no-store"
    assert "Cookie" in home.headers["Vary"]
    out = client.post("/logout")
    assert "Clear-Site-Data" in out.headers
    assert client.get_cookie(COOKIE) is None
    client.set_cookie(COOKIE, authed.value)
    assert client.get("/").json == {"user": None, "n": None}
    assert sink.kinds()[-1] == "session.id.unknown"


def test_flask_idle_expiry_and_untouched_pages(env: Any) -> None:
    app, _, clock, sink = env
    client = app.test_client()
    client.post("/login")
    plain = client.get("/static-ish")
    assert "Set-Cookie" not in plain.headers
    clock.advance(301)
    assert client.get("/").json["user"] is None
    assert "session.expired.idle" in sink.kinds()


@pytest.mark.parametrize("value", ["", "x" * 9000, "caf\u00e9", "A" * 42, "' OR 1=1 --"])
def test_flask_bad_cookies_are_anonymous(env: Any, value: str) -> None:
    app, manager, _, sink = env
    response = raw_get(app, f"{COOKIE}={value}")
    assert response.status_code == 200
    assert response.json == {"user": None, "n": None}
    assert manager.store.list_all() == []
    assert sink.kinds() == ["session.id.malformed"]


def test_flask_store_outage_is_503(tmp_path: Path) -> None:
    class Down(SQLiteStore):
        def get(self, key: str) -> Any:
            raise StoreUnavailable("down")

    app = make_app(SessionManager(Down(tmp_path / "d.sqlite3"), sinks=[]))
    response = raw_get(app, f"{COOKIE}={'A' * 43}")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
