"""Django: the middleware gives views ``request.sessionward`` with the same guarantees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import django
import pytest
from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="sessionward-tests-" + "x" * 40,
        ROOT_URLCONF="frameworks.django_site",
        ALLOWED_HOSTS=["testserver"],
        INSTALLED_APPS=[],
        DATABASES={},
        MIDDLEWARE=["sessionward.integrations.django.SessionwardMiddleware"],
        SESSIONWARD_MANAGER="frameworks.django_site.make_manager",
    )
    django.setup()

from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings

from sessionward import (
    MemorySink,
    SessionManager,
    SessionPolicy,
    SQLiteStore,
    StoreUnavailable,
)
from sessionward.core.tokens import session_key
from sessionward.integrations.django import SessionwardMiddleware
from sessionward.testing import FakeClock

from . import django_site

COOKIE = "__Host-session"


@pytest.fixture
def env(tmp_path: Path) -> tuple[Client, SessionManager, FakeClock, MemorySink]:
    clock, sink = FakeClock(), MemorySink()
    manager = SessionManager(
        SQLiteStore(tmp_path / "dj.sqlite3"),
        clock=clock,
        sinks=[sink],
        policy=SessionPolicy(idle_timeout=300),
    )
    django_site.CURRENT = manager
    return Client(), manager, clock, sink


def test_django_login_flow_rotates_and_logout_kills(env: Any) -> None:
    client, manager, _, sink = env
    first = client.post("/count", secure=True)
    assert first.json() == {"n": 1}
    emitted = first.cookies[COOKIE].output(header="Set-Cookie:")
    assert emitted.startswith(f"Set-Cookie: {COOKIE}=")
    assert emitted.endswith("; Path=/; Max-Age=300; Secure; HttpOnly; SameSite=Lax")
    anon = client.cookies[COOKIE]
    response = client.post("/login", secure=True)
    assert response.status_code == 302
    authed = client.cookies[COOKIE].value
    assert authed != anon.value
    assert manager.store.get(session_key(anon.value)) is None
    home = client.get("/", secure=True)
    assert home.json() == {"user": "alice", "n": 1}
    assert home["Cache-Control"] == "no-store"
    assert "Cookie" in home["Vary"]
    out = client.post("/logout", secure=True)
    assert "Clear-Site-Data" in out
    assert "Max-Age=0" in out.cookies[COOKIE].output()
    replay = client.get("/", secure=True, HTTP_COOKIE=f"{COOKIE}={authed}")
    assert replay.json() == {"user": None, "n": None}
    assert sink.kinds()[-1] == "session.id.unknown"


def test_django_idle_expiry_and_untouched_pages(env: Any) -> None:
    client, _, clock, sink = env
    client.post("/login", secure=True)
    assert "Set-Cookie" not in client.get("/plain", secure=True)
    clock.advance(301)
    assert client.get("/", secure=True).json()["user"] is None
    assert "session.expired.idle" in sink.kinds()


@pytest.mark.parametrize("value", ["", "x" * 9000, "caf\u00e9", "A" * 42, "' OR 1=1 --"])
def test_django_bad_cookies_are_anonymous(env: Any, value: str) -> None:
    client, manager, _, sink = env
    response = client.get("/", secure=True, HTTP_COOKIE=f"{COOKIE}={value}")
    assert response.status_code == 200
    assert response.json() == {"user": None, "n": None}
    assert manager.store.list_all() == []
    assert sink.kinds() == ["session.id.malformed"]


def test_django_store_outage_is_503(tmp_path: Path) -> None:
    class Down(SQLiteStore):
        def get(self, key: str) -> Any:
            raise StoreUnavailable("down")

    django_site.CURRENT = SessionManager(Down(tmp_path / "d.sqlite3"), sinks=[])
    response = Client().get("/", secure=True, HTTP_COOKIE=f"{COOKIE}={'A' * 43}")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"


def test_missing_setting_says_how_to_fix_it() -> None:
    with (
        override_settings(SESSIONWARD_MANAGER=None),
        pytest.raises(ImproperlyConfigured, match="set SESSIONWARD_MANAGER"),
    ):
        SessionwardMiddleware(lambda request: None)  # type: ignore[arg-type,return-value]
    with (
        override_settings(SESSIONWARD_MANAGER="os.getcwd"),
        pytest.raises(ImproperlyConfigured, match=r"must name a sessionward\.SessionManager"),
    ):
        SessionwardMiddleware(lambda request: None)  # type: ignore[arg-type,return-value]


def test_real_wsgi_handler_emits_exactly_our_cookie(env: Any) -> None:
    import httpx
    from django.core.handlers.wsgi import WSGIHandler

    transport = httpx.WSGITransport(app=WSGIHandler())
    with httpx.Client(transport=transport, base_url="https://testserver") as client:
        response = client.post("/login")
        # Django writes every cookie as output(header="") (a leading space, which HTTP
        # parsers drop as optional whitespace).
        cookies = [c.strip() for c in response.headers.get_list("set-cookie")]
        assert len(cookies) == 1
        assert cookies[0].startswith(f"{COOKIE}=")
        assert cookies[0].endswith("; Path=/; Max-Age=300; Secure; HttpOnly; SameSite=Lax")
        assert client.get("/").json()["user"] == "alice"
