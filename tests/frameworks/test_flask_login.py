"""A Flask app with Flask-Login and CSRF, written as docs/frameworks.md tells a reader to."""

from __future__ import annotations

import re
from typing import Any

import flask
import pytest
from flask_login import LoginManager, UserMixin, current_user, login_required

from sessionward import MemoryStore, SecretKeyRing, SessionManager
from sessionward.core.session_tokens import session_key
from sessionward.integrations.flask import Sessionward, current_session
from sessionward.integrations.flask.csrf import CSRFProtect
from sessionward.integrations.flask.login import SessionwardLogin, login_user, logout_user
from sessionward.monitoring import MemorySink
from sessionward.testing import FakeClock

COOKIE = "__Host-session"
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}


class User(UserMixin):
    def __init__(self, user_id: str) -> None:
        self.id = user_id


USERS = {"alice": User("alice"), "bob": User("bob")}


def make_app() -> tuple[flask.Flask, SessionManager, MemorySink]:
    sink = MemorySink()
    manager = SessionManager(MemoryStore(), sinks=[sink], clock=FakeClock())
    app = flask.Flask(__name__)
    app.secret_key = "flask-login needs it"
    Sessionward(app, manager)
    csrf = CSRFProtect(app, keys=SecretKeyRing.generate())
    login_manager = LoginManager(app)
    SessionwardLogin(app, login_manager)

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        return USERS.get(user_id)

    @app.get("/login")
    def login_form() -> Any:
        return flask.render_template_string(
            '<form method="post"><input name="csrf_token" value="{{ csrf_token() }}">'
            '<input name="user"></form>'
        )

    @app.post("/login")
    def login() -> Any:
        login_user(USERS[flask.request.form["user"]])
        flask.session["theme"] = "dark"
        return flask.redirect("/account")

    @app.get("/account")
    @login_required
    def account() -> Any:
        return {"user": current_user.id, "theme": flask.session.get("theme")}

    @app.get("/transfer")
    @login_required
    def transfer_form() -> Any:
        return flask.render_template_string("{{ csrf_token() }}")

    @app.post("/transfer")
    @login_required
    def transfer() -> Any:
        return {"sent": flask.request.form["amount"]}

    @app.post("/hook")
    @csrf.exempt
    def hook() -> Any:
        return "hooked"

    @app.post("/logout")
    def logout() -> Any:
        logout_user()
        flask.flash("logged out")
        return flask.redirect("/login")

    @app.get("/bye")
    def bye() -> Any:
        return {"messages": flask.get_flashed_messages(), "anon": current_user.is_anonymous}

    return app, manager, sink


def token_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(r"(\S+)", html)
    assert match is not None
    return match.group(1)


def test_log_in_use_the_session_protect_a_form_and_log_out() -> None:
    app, manager, sink = make_app()
    client = app.test_client()
    form = client.get("/login")
    token = token_from(form.text)
    assert client.post("/login", data={"user": "alice"}).status_code == 403  # no token
    response = client.post(
        "/login", data={"user": "alice", "csrf_token": token}, headers=SAME_ORIGIN
    )
    assert response.status_code == 302
    assert response.headers.getlist("Set-Cookie")[0].startswith(COOKIE)
    assert sum(h.startswith(COOKIE) for h in response.headers.getlist("Set-Cookie")) == 1
    assert client.get("/account").json == {"user": "alice", "theme": "dark"}
    info = manager.sessions_of("alice")
    assert len(info) == 1  # sessionward knows the user: "active sessions", limits, revoke
    assert "login.succeeded" in sink.kinds()

    # The pre-login token no longer works: tokens are bound to the session, new at login.
    refused = client.post(
        "/transfer", data={"amount": "5", "csrf_token": token}, headers=SAME_ORIGIN
    )
    assert refused.status_code == 403
    fresh = token_from(client.get("/transfer").text)
    sent = client.post("/transfer", data={"amount": "5", "csrf_token": fresh}, headers=SAME_ORIGIN)
    assert sent.json == {"sent": "5"}
    cross = client.post(
        "/transfer",
        data={"amount": "5", "csrf_token": fresh},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert cross.status_code == 403
    assert "csrf.rejected" in sink.kinds()
    assert client.post("/hook").text == "hooked"

    authed = client.get_cookie(COOKIE)
    assert authed is not None
    client.post("/logout", headers=SAME_ORIGIN, data={"csrf_token": fresh})
    assert manager.store.get(session_key(authed.value)) is None
    assert client.get("/bye").json == {"messages": ["logged out"], "anon": True}
    client.set_cookie(COOKIE, authed.value)
    assert client.get("/account").status_code == 401


def test_login_user_rotates_the_token_and_records_the_user() -> None:
    app, manager, _ = make_app()
    client = app.test_client()
    client.get("/login")
    with client.session_transaction() as session:
        session["cart"] = ["apple"]
    anon = client.get_cookie(COOKIE)
    assert anon is not None
    token = token_from(client.get("/login").text)
    client.post("/login", data={"user": "bob", "csrf_token": token}, headers=SAME_ORIGIN)
    authed = client.get_cookie(COOKIE)
    assert authed is not None and authed.value != anon.value
    assert manager.store.get(session_key(anon.value)) is None
    assert manager.store.get(session_key(authed.value)).user_id == "bob"


def test_remember_me_is_refused_with_a_clear_message() -> None:
    app, _, _ = make_app()
    with app.test_request_context("/"), pytest.raises(ValueError, match="remember-me"):
        login_user(USERS["alice"], remember=True)


def test_revoked_user_is_not_logged_back_in_by_a_remember_cookie() -> None:
    app, manager, _ = make_app()
    client = app.test_client()
    token = token_from(client.get("/login").text)
    client.post("/login", data={"user": "alice", "csrf_token": token}, headers=SAME_ORIGIN)
    # A remember cookie as Flask-Login would have issued it (from before the bridge).
    from flask_login.utils import encode_cookie

    with app.test_request_context("/"):
        remember = encode_cookie("alice")
    client.set_cookie("remember_token", remember)
    manager.revoke_user("alice")
    assert client.get("/account").status_code == 401
    assert client.get("/account").status_code == 401


def test_a_hand_written_user_id_is_not_trusted() -> None:
    app, _, _ = make_app()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "alice"  # not a sessionward login
    assert client.get("/account").status_code == 401


def test_current_session_is_the_flask_session() -> None:
    app, _, _ = make_app()
    with app.test_request_context("/"):
        assert current_session() is flask.session._get_current_object()  # type: ignore[attr-defined]


def test_login_when_a_touch_is_due_sends_one_session_cookie_and_stays_logged_in() -> None:
    sink = MemorySink()
    clock = FakeClock()
    manager = SessionManager(MemoryStore(), sinks=[sink], clock=clock)
    app = flask.Flask(__name__)
    app.secret_key = "k"
    Sessionward(app, manager)
    CSRFProtect(app, keys=SecretKeyRing.generate())

    @app.get("/form")
    def form() -> Any:
        flask.session["seen"] = True
        return flask.render_template_string("{{ csrf_token() }}")

    @app.post("/login")
    def login() -> Any:
        current_session().login("alice")
        return "in"

    @app.get("/me")
    def me() -> Any:
        return {"user": current_session().user_id}

    client = app.test_client()
    token = client.get("/form").text.strip()
    clock.advance(120)  # the anonymous session's touch is due at login
    response = client.post("/login", data={"csrf_token": token}, headers=SAME_ORIGIN)
    assert response.status_code == 200
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(COOKIE)]
    assert len(cookies) == 1
    assert client.get("/me").json == {"user": "alice"}
