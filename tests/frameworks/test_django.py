"""Django: the middleware gives views ``request.sessionward`` with the same guarantees."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings

from sessionward import (
    ConfigurationError,
    SessionManager,
    SessionPolicy,
    SQLiteStore,
    StoreUnavailable,
)
from sessionward.core.session_tokens import session_key
from sessionward.integrations.django import SessionwardMiddleware, conf
from sessionward.monitoring import MemorySink
from sessionward.testing import FakeClock

from . import (
    django_settings,  # noqa: F401  (configures Django first)
    django_site,
)

COOKIE = "__Host-session"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[Client, SessionManager, FakeClock, MemorySink]]:
    clock, sink = FakeClock(), MemorySink()
    manager = SessionManager(
        SQLiteStore(tmp_path / "dj.sqlite3"),
        clock=clock,
        sinks=[sink],
        policy=SessionPolicy(idle_timeout=300),
    )
    django_site.CURRENT = manager
    conf.reset()
    with override_settings(ROOT_URLCONF="frameworks.django_site"):
        yield Client(), manager, clock, sink


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
    conf.reset()
    with override_settings(ROOT_URLCONF="frameworks.django_site"):
        response = Client().get("/", secure=True, HTTP_COOKIE=f"{COOKIE}={'A' * 43}")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"


def test_missing_setting_says_how_to_fix_it() -> None:
    conf.reset()
    with (
        override_settings(SESSIONWARD_MANAGER=None, SESSIONWARD_STORE=None),
        pytest.raises(ConfigurationError, match="set SESSIONWARD_STORE to a store URL"),
    ):
        SessionwardMiddleware(lambda request: None)
    with (
        override_settings(SESSIONWARD_MANAGER="os.getcwd"),
        pytest.raises(ConfigurationError, match=r"must name a sessionward\.SessionManager"),
    ):
        SessionwardMiddleware(lambda request: None)


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


def test_a_5xx_saves_nothing(env: Any) -> None:
    client = env[0]
    client.post("/count", secure=True)
    response = client.post("/fail", secure=True)
    assert response.status_code == 500
    assert COOKIE not in response.cookies
    assert client.get("/", secure=True).json()["n"] == 1


def test_a_login_before_a_5xx_still_sends_the_new_token(env: Any) -> None:
    client, manager = env[0], env[1]
    response = client.post("/login-then-fail", secure=True)
    assert response.status_code == 500
    assert COOKIE in response.cookies
    assert [s.user_id for s in manager.store.list_all()] == ["alice"]


def test_session_ended_meanwhile_is_a_400_not_a_resurrection(env: Any) -> None:
    client, manager, _, _ = env
    client.post("/login", secure=True)
    response = client.post("/revoked", secure=True)
    assert response.status_code == 400  # Django's SessionInterrupted
    assert manager.sessions_of("alice") == []


def test_no_cookie_and_nothing_stored_means_no_set_cookie(env: Any) -> None:
    client, manager, _, _ = env
    response = client.get("/", secure=True)
    assert response.cookies == {}
    assert manager.store.list_all() == []


def test_guessing_client_gets_429_and_others_do_not(tmp_path: Path) -> None:
    from sessionward.monitoring import AnomalyRules, GuessingRule, Monitoring

    rules = AnomalyRules(guessing=GuessingRule(max_failures=3, window=60, block_for=300))
    manager = SessionManager(
        SQLiteStore(tmp_path / "g.sqlite3"), sinks=[], monitoring=Monitoring(rules=rules)
    )
    django_site.CURRENT = manager
    conf.reset()
    with override_settings(ROOT_URLCONF="frameworks.django_site"):
        guesser, other = Client(REMOTE_ADDR="198.51.100.7"), Client(REMOTE_ADDR="192.0.2.1")
        codes = [
            guesser.get("/", secure=True, HTTP_COOKIE=f"{COOKIE}={c * 43}").status_code
            for c in "ABCD"
        ]
        assert codes == [200, 200, 200, 429]
        assert other.get("/", secure=True, HTTP_COOKIE=f"{COOKIE}={'E' * 43}").status_code == 200
        assert guesser.get("/", secure=True).status_code == 200  # no cookie: login reachable


def test_client_address_through_trusted_proxies(env: Any) -> None:
    client, _, _, _ = env
    forwarded = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    assert client.get("/where", secure=True, **forwarded).content == b"10.0.0.2"
    with override_settings(SESSIONWARD_TRUSTED_PROXIES=["10.0.0.0/8"]):
        assert client.get("/where", secure=True, **forwarded).content == b"203.0.113.9"


def test_cookie_morsel_attributes_are_filled(env: Any) -> None:
    client, _, _, _ = env
    morsel = client.post("/count", secure=True).cookies[COOKIE]
    assert morsel["secure"] is True and morsel["httponly"] is True
    assert morsel["samesite"] == "Lax" and morsel["path"] == "/" and morsel["max-age"] == "300"


def test_async_views_and_middleware(env: Any) -> None:
    import asyncio

    from django.test import AsyncClient

    async def visit() -> list[Any]:
        client = AsyncClient()
        first = await client.get("/async", secure=True)
        client.cookies[COOKIE] = first.cookies[COOKIE].value
        second = await client.get("/async", secure=True)
        return [first.json()["n"], second.json()["n"]]

    assert asyncio.run(visit()) == [None, 1]


def test_async_flush_then_new_data_starts_a_new_session(env: Any) -> None:
    client, manager, _, _ = env
    client.post("/login", secure=True)
    old = client.cookies[COOKIE].value
    response = client.get("/async-logout", secure=True)
    assert response.status_code == 200
    new = response.cookies[COOKIE].value
    assert new and new != old
    assert manager.sessions_of("alice") == []
    # The browser keeps the new cookie: Clear-Site-Data does not ask it to drop cookies.
    assert "cookies" not in response["Clear-Site-Data"]
    assert client.get("/", secure=True).json() == {"user": None, "n": None}


def test_anomaly_rules_apply_user_agent_change_revokes(env: Any) -> None:
    client, manager, _, sink = env
    client.post("/login", secure=True, HTTP_USER_AGENT="Firefox/130")
    assert client.get("/", secure=True, HTTP_USER_AGENT="Firefox/130").json()["user"] == "alice"
    stolen = client.get("/", secure=True, HTTP_USER_AGENT="curl/8.0")
    assert stolen.json()["user"] is None
    assert manager.sessions_of("alice") == []
    assert "session.anomaly" in sink.kinds()


def test_store_outage_inside_a_view_is_503(env: Any) -> None:
    client = env[0]
    response = client.get("/store-fails", secure=True)
    assert response.status_code == 503 and response["Retry-After"] == "5"
