"""Flask's CSRFProtect follows the rules of the ASGI and WSGI CSRF middlewares (issue 9)."""

from __future__ import annotations

import flask

from sessionward import MemoryStore, SecretKeyRing, SessionManager
from sessionward.core.events import EventKind
from sessionward.integrations.flask import Sessionward
from sessionward.integrations.flask.csrf import CSRFProtect
from sessionward.monitoring import MemorySink
from sessionward.testing import FakeClock


def make_app() -> tuple[flask.Flask, MemorySink]:
    sink = MemorySink()
    app = flask.Flask(__name__)
    app.secret_key = "flask needs one for sessions"
    Sessionward(app, SessionManager(MemoryStore(), sinks=[sink], clock=FakeClock()))
    CSRFProtect(app, keys=SecretKeyRing.generate())

    @app.post("/api/items/<item>")
    def update(item: str) -> dict[str, str]:
        return {"updated": item}

    return app, sink


def test_a_cookieless_bearer_request_is_not_a_csrf_target() -> None:
    app, _ = make_app()
    client = app.test_client()
    answer = client.post("/api/items/7", headers={"Authorization": "Bearer some-token"})
    assert answer.status_code == 200
    assert answer.json == {"updated": "7"}


def test_a_bearer_request_that_also_carries_cookies_is_still_checked() -> None:
    app, _ = make_app()
    client = app.test_client(use_cookies=False)  # the Cookie header exactly as written
    answer = client.post(
        "/api/items/7",
        headers={"Authorization": "Bearer some-token"},
        environ_overrides={"HTTP_COOKIE": "theme=dark"},  # as a browser sends it
    )
    assert answer.status_code == 403


def test_a_tossed_presession_cookie_is_recorded_and_never_used() -> None:
    app, sink = make_app()
    client = app.test_client(use_cookies=False)  # the Cookie header exactly as written
    answer = client.post(
        "/api/items/7",
        headers={"Sec-Fetch-Site": "same-origin"},
        environ_overrides={"HTTP_COOKIE": "\xa0__Host-csrf=planted-by-a-sibling"},
    )
    assert answer.status_code == 403
    tossed = [e for e in sink.events if e.kind is EventKind.MALFORMED_ID]
    assert [e.reason for e in tossed] == ["cookie_tossing"]
