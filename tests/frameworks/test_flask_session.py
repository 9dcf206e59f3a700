"""flask.session as Flask users expect it, with sessionward's guarantees kept."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import flask
import pytest

from sessionward import ConfigurationError, MemoryStore, SessionManager, SessionPolicy
from sessionward.core.proxies import TrustedProxies
from sessionward.core.session_tokens import new_token, session_key
from sessionward.integrations.flask import Sessionward, current_session
from sessionward.monitoring import AnomalyRules, GuessingRule, MemorySink, Monitoring
from sessionward.testing import FakeClock

COOKIE = "__Host-session"


class CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get(self, key: str) -> Any:
        self.reads += 1
        return super().get(key)


def build(
    manager: SessionManager | None = None, **config: Any
) -> tuple[flask.Flask, SessionManager]:
    manager = manager or SessionManager(
        CountingStore(), sinks=[MemorySink()], clock=FakeClock(), policy=SessionPolicy()
    )
    app = flask.Flask(__name__)
    app.config.update(SECRET_KEY="k", **config)
    Sessionward(app, manager)

    @app.post("/login")
    def login() -> Any:
        flask.session["cart"] = ["apple"]
        current_session().login("alice")
        return "in"

    @app.get("/me")
    def me() -> Any:
        return {"user": current_session().user_id, "cart": flask.session.get("cart")}

    @app.post("/permanent")
    def permanent() -> Any:
        flask.session.permanent = True
        return "ok"

    @app.get("/plain")
    def plain() -> Any:
        return "no session here"

    @app.post("/nested")
    def nested() -> Any:
        flask.session.setdefault("items", []).append(1)
        flask.session.modified = True  # Flask's documented idiom must not raise
        return "ok"

    @app.post("/logout")
    def logout() -> Any:
        current_session().logout()
        flask.flash("logged out")
        return "bye"

    @app.post("/clear")
    def clear() -> Any:
        flask.session.clear()
        return "cleared"

    @app.get("/flashes")
    def flashes() -> Any:
        return {"messages": flask.get_flashed_messages()}

    return app, manager


def test_route_that_never_touches_the_session_reads_nothing_and_adds_nothing() -> None:
    app, manager = build(SESSION_REFRESH_EACH_REQUEST=False)
    client = app.test_client()
    client.post("/login")
    store: Any = manager.store
    before = store.reads
    response = client.get("/plain")
    assert store.reads == before
    assert "Cache-Control" not in response.headers
    assert "Vary" not in response.headers
    assert "Set-Cookie" not in response.headers


def test_refresh_each_request_touches_within_the_touch_interval() -> None:
    clock = FakeClock()
    manager = SessionManager(
        CountingStore(), sinks=[], clock=clock, policy=SessionPolicy(touch_interval=60)
    )
    app, _ = build(manager)
    client = app.test_client()
    client.post("/login")
    client.post("/permanent")
    assert "Set-Cookie" not in client.get("/plain").headers  # touched moments ago
    clock.advance(61)
    refreshed = client.get("/plain")
    assert "Max-Age=" in refreshed.headers["Set-Cookie"]
    assert refreshed.headers["Vary"] == "Cookie"


def test_modified_is_settable_and_nested_changes_are_saved() -> None:
    app, _ = build()

    @app.get("/items")
    def items() -> Any:
        return {"items": flask.session.get("items")}

    client = app.test_client()
    assert client.post("/nested").status_code == 200
    client.post("/nested")
    assert client.get("/items").json == {"items": [1, 1]}


def test_non_permanent_is_a_browser_session_cookie_and_permanent_is_capped() -> None:
    app, _ = build(PERMANENT_SESSION_LIFETIME=timedelta(days=31))
    client = app.test_client()
    cookie = client.post("/login").headers["Set-Cookie"]
    assert "Max-Age" not in cookie and "Expires" not in cookie
    permanent = client.post("/permanent").headers.get("Set-Cookie")
    # Turning permanent on re-sends the cookie with Max-Age: the policy's idle timeout (30 min)
    # caps Flask's 31 days.
    assert permanent is not None and "Max-Age=1800" in permanent


def test_permanent_session_lifetime_shorter_than_the_policy_wins() -> None:
    app, _ = build(PERMANENT_SESSION_LIFETIME=timedelta(minutes=5))
    client = app.test_client()
    client.post("/login")
    assert "Max-Age=300" in client.post("/permanent").headers["Set-Cookie"]


def test_browser_session_cookie_still_expires_on_the_server() -> None:
    clock = FakeClock()
    manager = SessionManager(
        MemoryStore(), sinks=[], clock=clock, policy=SessionPolicy(idle_timeout=300)
    )
    app, _ = build(manager)
    client = app.test_client()
    client.post("/login")
    clock.advance(301)
    assert client.get("/me").json == {"user": None, "cart": None}


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("SESSION_COOKIE_DOMAIN", ".example.com"),
        ("SESSION_COOKIE_PATH", "/app"),
        ("SESSION_COOKIE_HTTPONLY", False),
        ("SESSION_COOKIE_SAMESITE", "sometimes"),
        ("SESSION_COOKIE_NAME", "__Secure-sid"),
    ],
)
def test_insecure_cookie_settings_are_refused_at_init_naming_the_setting(
    setting: str, value: Any
) -> None:
    with pytest.raises(ConfigurationError, match=setting):
        build(**{setting: value})


def test_secure_cookie_settings_are_applied() -> None:
    app, _ = build(
        SESSION_COOKIE_NAME="sid", SESSION_COOKIE_SAMESITE="Strict", SESSION_COOKIE_SECURE=True
    )
    cookie = app.test_client().post("/login").headers["Set-Cookie"]
    assert cookie.startswith("__Host-sid=")
    assert "SameSite=Strict" in cookie and "Secure" in cookie and "HttpOnly" in cookie


def test_flash_after_logout_lands_in_a_fresh_anonymous_session() -> None:
    app, manager = build()
    client = app.test_client()
    client.post("/login")
    old = client.get_cookie(COOKIE)
    assert old is not None
    out = client.post("/logout")
    assert "cookies" not in out.headers["Clear-Site-Data"]
    new = client.get_cookie(COOKIE)
    assert new is not None and new.value != old.value
    assert manager.store.get(session_key(old.value)) is None
    assert client.get("/flashes").json == {"messages": ["logged out"]}
    assert client.get("/me").json == {"user": None, "cart": None}


def test_logout_without_later_writes_clears_the_cookie_and_site_data() -> None:
    app, _ = build()

    @app.post("/quiet-logout")
    def quiet_logout() -> Any:
        current_session().logout()
        return "bye"

    client = app.test_client()
    client.post("/login")
    out = client.post("/quiet-logout")
    assert '"cookies"' in out.headers["Clear-Site-Data"]
    assert client.get_cookie(COOKIE) is None


def test_clear_logs_out_and_kills_the_token() -> None:
    app, manager = build()
    client = app.test_client()
    client.post("/login")
    token = client.get_cookie(COOKIE)
    assert token is not None
    client.post("/clear")
    assert manager.store.get(session_key(token.value)) is None
    client.set_cookie(COOKIE, token.value)
    assert client.get("/me").json == {"user": None, "cart": None}


def test_unsupported_value_is_a_type_error_at_assignment() -> None:
    app, _ = build()

    @app.post("/bad")
    def bad() -> Any:
        flask.session["when"] = {1, 2}
        return "unreachable"

    app.testing = True
    with pytest.raises(TypeError, match="'when'"):
        app.test_client().post("/bad")


def test_guessing_client_gets_429_with_retry_after_and_others_are_served() -> None:
    clock = FakeClock()
    rules = AnomalyRules(guessing=GuessingRule(max_failures=3, block_for=120))
    manager = SessionManager(
        MemoryStore(), sinks=[], clock=clock, monitoring=Monitoring(rules=rules, devices=None)
    )
    app, _ = build(manager)
    guesser = app.test_client()
    for _ in range(3):
        guesser.set_cookie(COOKIE, new_token())
        guesser.get("/me")
    guesser.set_cookie(COOKIE, new_token())
    blocked = guesser.get("/me")
    assert blocked.status_code == 429
    assert blocked.headers["Retry-After"] == "120"
    # The 429 expires the refused cookie, so this browser's next request reaches the login page.
    assert "Max-Age=0" in blocked.headers["Set-Cookie"]
    assert blocked.headers["Cache-Control"] == "no-store"
    assert guesser.get("/plain").status_code == 200  # a page without the session still works
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.99"
    other.post("/login")
    assert other.get("/me").json["user"] == "alice"


def test_client_resolver_option_is_used() -> None:
    manager = SessionManager(MemoryStore(), sinks=[], clock=FakeClock())
    app = flask.Flask(__name__)
    app.secret_key = "k"
    Sessionward(app, manager, client_resolver=TrustedProxies(["127.0.0.1"]).wsgi)

    @app.get("/ip")
    def ip() -> Any:
        return {"ip": current_session().client.ip}

    response = app.test_client().get("/ip", headers={"X-Forwarded-For": "203.0.113.7"})
    assert response.json == {"ip": "203.0.113.7"}
