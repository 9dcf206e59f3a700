"""[flask]: a Flask app logs in and out on SQLite."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import flask
from _drive import login_logout, wsgi_call

from sessionward import SessionManager, SQLiteStore
from sessionward.integrations.flask import Sessionward, current_session

app = flask.Flask(__name__)
app.secret_key = "flask's own rule; sessionward does not use it"
Sessionward(app, SessionManager(SQLiteStore(Path(tempfile.mkdtemp()) / "s.sqlite3")))


@app.get("/")
def home() -> Any:
    return current_session().user_id or "anonymous"


@app.post("/login")
def login() -> Any:
    current_session().login("alice")
    return "alice"


@app.post("/logout")
def logout() -> Any:
    current_session().logout()
    return "bye"


login_logout(lambda method, path, cookie: wsgi_call(app, method, path, cookie))
