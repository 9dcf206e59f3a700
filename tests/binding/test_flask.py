"""DBSC on a Flask app through the public Flask integration and ``bind_flask``."""

from __future__ import annotations

from pathlib import Path

import flask
import httpx
import pytest

from sessionward import SessionManager, SQLiteStore
from sessionward.binding import BindingConfig, DeviceBinding
from sessionward.binding.flask import bind_flask
from sessionward.core.events import Event, EventKind
from sessionward.integrations.flask import Sessionward, current_session
from sessionward.testing import FakeClock

from .app import BOUND, KEYS
from .client import DbscClient, Key
from .test_wsgi import SyncToAsync

pytestmark = pytest.mark.anyio


def make_flask(tmp: Path, clock: FakeClock, events: list[Event]) -> flask.Flask:
    app = flask.Flask(__name__)
    app.secret_key = "flask-needs-one-for-sessions"
    manager = SessionManager(SQLiteStore(tmp / "flask.sqlite3"), clock=clock, sinks=[events.append])
    Sessionward(app, manager)
    bind_flask(app, DeviceBinding(manager, BindingConfig(keys=KEYS, require_paths=("/admin",))))

    @app.post("/login")
    def login() -> dict[str, bool]:
        current_session().login(flask.request.args.get("user", "alice"))
        return {"ok": True}

    @app.get("/me")
    @app.get("/admin")
    def me() -> dict[str, str | None]:
        return {"user": current_session().user_id}

    @app.post("/logout")
    def logout() -> dict[str, bool]:
        current_session().logout()
        return {"ok": True}

    return app


async def test_flask_binds_refreshes_enforces_and_ends(tmp_path: Path) -> None:
    clock, events = FakeClock(), []
    transport = SyncToAsync(make_flask(tmp_path, clock, events))
    async with httpx.AsyncClient(transport=transport, base_url="https://app.test") as http:
        browser = DbscClient(http, clock, Key())
        await browser.request("POST", "/login")
        assert browser.config is not None and browser.cookie(BOUND) is not None
        plain = DbscClient(http, clock, None)
        await plain.request("POST", "/login?user=bob")
        assert (await plain.request("GET", "/admin")).status_code == 403
        assert (await browser.request("GET", "/admin")).json() == {"user": "alice"}
        thief = DbscClient(http, clock, None, cookies=browser.stolen_cookies())
        clock.advance(601)
        assert (await thief.request("GET", "/me")).json() == {"user": None}
        assert (await browser.request("GET", "/me")).json() == {"user": "alice"}
        assert browser.refreshes == 1
        await browser.request("POST", "/logout")
        assert browser.cookie(BOUND) is None
    kinds = [e.kind for e in events]
    assert kinds.count(EventKind.BINDING_REFRESHED) == 1
    assert EventKind.BINDING_MISMATCH in kinds
