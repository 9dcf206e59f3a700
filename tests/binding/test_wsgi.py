"""The same protocol through the WSGI shell and the synchronous manager (logic written once)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
import pytest

from sessionward import MemoryStore, SessionManager, SQLiteStore
from sessionward.binding import BindingConfig, DeviceBinding
from sessionward.binding.wsgi import WSGIDeviceBindingMiddleware
from sessionward.core.events import Event, EventKind
from sessionward.integrations.wsgi import ENVIRON_KEY
from sessionward.testing import FakeClock

from .app import KEYS
from .client import DbscClient, Key

pytestmark = pytest.mark.anyio


class SyncToAsync(httpx.AsyncBaseTransport):
    """Lets the async protocol client talk to a WSGI app."""

    def __init__(self, app: Any) -> None:
        self.inner = httpx.WSGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        response = self.inner.handle_request(
            httpx.Request(request.method, request.url, headers=request.headers, content=body)
        )
        return httpx.Response(
            response.status_code, headers=response.headers, content=response.read()
        )


def make_wsgi(store: Any, clock: FakeClock, events: list[Event]) -> Any:
    manager = SessionManager(store, clock=clock, sinks=[events.append])
    binding = DeviceBinding(manager, BindingConfig(keys=KEYS, require_paths=("/admin",)))

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        session = environ[ENVIRON_KEY]
        if environ["PATH_INFO"] == "/login":
            session.login("alice")
        elif environ["PATH_INFO"] == "/logout":
            session.logout()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"user": session.user_id}).encode()]

    return WSGIDeviceBindingMiddleware(app, manager=manager, binding=binding)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_wsgi_register_refresh_and_stolen_cookies(tmp_path: Path, kind: str) -> None:
    clock, events = FakeClock(), []
    store = MemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "s.sqlite3")
    transport = SyncToAsync(make_wsgi(store, clock, events))
    async with httpx.AsyncClient(transport=transport, base_url="https://app.test") as http:
        browser = DbscClient(http, clock, Key("RS256"))
        await browser.request("POST", "/login")
        assert browser.config is not None
        thief = DbscClient(http, clock, None, cookies=browser.stolen_cookies())
        assert (await browser.request("GET", "/admin/x")).json() == {"user": "alice"}
        clock.advance(601)
        assert (await thief.request("GET", "/me")).json() == {"user": None}
        assert (await browser.request("GET", "/me")).json() == {"user": "alice"}
        assert browser.refreshes == 1
        await browser.request("POST", "/logout")
        assert browser.cookie("__Host-bound") is None
    store.close()
    seen = [e.kind for e in events]
    assert EventKind.BINDING_REGISTERED in seen and EventKind.BINDING_REFRESHED in seen
    assert EventKind.BINDING_MISMATCH in seen
