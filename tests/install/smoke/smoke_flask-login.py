"""[flask-login]: Flask-Login's login_user/logout_user through sessionward, on SQLite."""

from __future__ import annotations

import tempfile
from pathlib import Path

import flask
from _drive import check, login_logout, wsgi_call
from flask_login import LoginManager, UserMixin, current_user

from sessionward import SessionManager, SQLiteStore
from sessionward.integrations.flask import Sessionward
from sessionward.integrations.flask.login import SessionwardLogin, login_user, logout_user


class User(UserMixin):
    def __init__(self, user_id: str) -> None:
        self.id = user_id


app = flask.Flask(__name__)
app.secret_key = "flask-login signs with it"
manager = SessionManager(SQLiteStore(Path(tempfile.mkdtemp()) / "s.sqlite3"))
Sessionward(app, manager)
login_manager = LoginManager(app)
SessionwardLogin(app, login_manager)
login_manager.user_loader(User)


@app.get("/")
def home() -> str:
    return current_user.id if current_user.is_authenticated else "anonymous"


@app.post("/login")
def login() -> str:
    login_user(User("alice"))
    return "alice"


@app.post("/logout")
def logout() -> str:
    logout_user()
    return "bye"


login_logout(lambda method, path, cookie: wsgi_call(app, method, path, cookie))
check(manager.sessions_of("alice") == [], "the logged-out session is still listed")
