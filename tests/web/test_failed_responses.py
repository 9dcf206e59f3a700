"""One rule in every shell for a response the app answers with a 5xx (Django's rule).

Nothing is saved: a new session is not created, data written during the request is lost, the
last-seen time is not touched. A token the app already changed in the store (a login before
the error) is still sent, or the browser would keep a token that no longer exists.
ASGI, WSGI, Flask and the device-binding middleware here; Django in
tests/frameworks/test_django.py (test_a_5xx_saves_nothing, test_a_login_before_a_5xx_...).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import flask
import pytest
from werkzeug.test import create_environ, run_wsgi_app

from sessionward import (
    AsyncMemoryStore,
    AsyncSessionManager,
    MemoryStore,
    SessionManager,
)
from sessionward.integrations.asgi import SessionMiddleware
from sessionward.integrations.flask import Sessionward, current_session
from sessionward.integrations.wsgi import ENVIRON_KEY, WSGISessionMiddleware
from sessionward.testing import FakeClock

COOKIE = "__Host-session"


def asgi_call(app: Any, path: str, cookie: str | None = None) -> tuple[int, dict[str, list[str]]]:
    headers = [] if cookie is None else [(b"cookie", cookie.encode())]
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "scheme": "https",
        "headers": headers,
        "client": ("203.0.113.7", 1),
        "server": ("app.test", 443),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = sent[0]
    found: dict[str, list[str]] = {}
    for name, value in start["headers"]:
        found.setdefault(bytes(name).decode().lower(), []).append(bytes(value).decode())
    return start["status"], found


def asgi_app(manager: AsyncSessionManager) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        session = scope["session"]
        session["n"] = session.get("n", 0) + 1
        if scope["path"] == "/login-then-fail":
            await session.login("alice")
        status = 500 if "fail" in scope["path"] else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return SessionMiddleware(app, manager=manager)


def wsgi_app(manager: SessionManager) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        session = environ[ENVIRON_KEY]
        session["n"] = session.get("n", 0) + 1
        if environ["PATH_INFO"] == "/login-then-fail":
            session.login("alice")
        failed = "fail" in environ["PATH_INFO"]
        start_response("500 Internal Server Error" if failed else "200 OK", [])
        return [b""]

    return WSGISessionMiddleware(app, manager=manager)


def wsgi_call(app: Any, path: str, cookie: str | None = None) -> tuple[int, dict[str, list[str]]]:
    headers = {} if cookie is None else {"Cookie": cookie}
    environ = create_environ(path, "https://app.test", method="POST", headers=headers)
    environ["REMOTE_ADDR"] = "203.0.113.7"
    _, status, response_headers = run_wsgi_app(app, environ)
    found: dict[str, list[str]] = {}
    for name, value in response_headers.items():
        found.setdefault(name.lower(), []).append(value)
    return int(status[:3]), found


def flask_app(manager: SessionManager) -> Any:
    app = flask.Flask(__name__)
    app.config["SECRET_KEY"] = "failed-response-test-secret-key-0123456789"
    Sessionward(app, manager=manager)

    @app.post("/<path:name>")
    def handler(name: str) -> tuple[str, int]:
        session = current_session()
        session["n"] = session.get("n", 0) + 1
        if name == "login-then-fail":
            session.login("alice")
        return "", 500 if "fail" in name else 200

    return app


def records(manager: Any) -> list[Any]:
    store = manager.store
    found: list[Any] = getattr(store, "sync", store).list_all()
    return found


def token_of(headers: dict[str, list[str]]) -> str:
    (line,) = headers["set-cookie"]
    return line.split(";")[0]


def shell(kind: str) -> tuple[Any, Any, Any]:
    clock = FakeClock()
    if kind == "asgi":
        amanager = AsyncSessionManager(AsyncMemoryStore(), clock=clock)
        return asgi_app(amanager), asgi_call, amanager
    manager = SessionManager(MemoryStore(), clock=clock)
    app = wsgi_app(manager) if kind == "wsgi" else flask_app(manager)
    return app, wsgi_call, manager


@pytest.mark.parametrize("kind", ["asgi", "wsgi", "flask"])
def test_a_5xx_creates_no_session_and_sends_no_cookie(kind: str) -> None:
    app, call, manager = shell(kind)
    status, headers = call(app, "/fail")
    assert status == 500
    assert "set-cookie" not in headers
    assert records(manager) == []


@pytest.mark.parametrize("kind", ["asgi", "wsgi", "flask"])
def test_a_5xx_keeps_the_stored_data_as_it_was(kind: str) -> None:
    app, call, manager = shell(kind)
    _, first = call(app, "/count")
    cookie = token_of(first)
    (record,) = records(manager)
    status, headers = call(app, "/fail", cookie)
    assert status == 500 and "set-cookie" not in headers
    (after,) = records(manager)
    assert after.data == record.data
    assert after.last_seen_at == record.last_seen_at


@pytest.mark.parametrize("kind", ["asgi", "wsgi", "flask"])
def test_a_login_before_the_5xx_still_sends_the_new_token(kind: str) -> None:
    app, call, manager = shell(kind)
    status, headers = call(app, "/login-then-fail")
    assert status == 500
    cookie = token_of(headers)
    assert cookie.startswith(f"{COOKIE}=")
    (record,) = records(manager)
    assert record.user_id == "alice"


def test_a_5xx_behind_device_binding_saves_nothing() -> None:
    from sessionward.binding import BindingConfig, DeviceBinding
    from sessionward.binding.asgi import DeviceBindingMiddleware
    from sessionward.core.keys import SecretKeyRing

    store = AsyncMemoryStore()
    manager = AsyncSessionManager(store, clock=FakeClock())

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        scope["session"]["n"] = 1
        await send({"type": "http.response.start", "status": 503, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    keys = SecretKeyRing(["failed-response-binding-secret-0123456789abcdef"])
    binding = DeviceBinding(manager, BindingConfig(keys=keys))
    status, headers = asgi_call(DeviceBindingMiddleware(app, manager=manager, binding=binding), "/")
    assert status == 503
    assert "set-cookie" not in headers
    assert store.sync.list_all() == []
