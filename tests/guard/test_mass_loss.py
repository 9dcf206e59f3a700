"""Issue 15 item 4: losing sessions in bulk must not lock the returning users out.

48 clients behind one address (an office NAT) are logged in; the store then loses every
session (a Redis restart without persistence, an operator's "revoke everyone"), or twenty
users log out and their old cookies are replayed once. Every client comes back with a cookie
that is now unknown. Those cookies are genuine, so none of them may count as a guess: no 429
for anyone, while a guesser at the same address presenting forged IDs is still blocked.
"""

from __future__ import annotations

from typing import Any

import pytest

from sessionward import ClientInfo, MemoryStore, SessionManager
from sessionward.core.session_tokens import new_token
from sessionward.errors import GuessingBlocked
from sessionward.monitoring import AnomalyRules, GuessingRule, Monitoring
from sessionward.testing import FakeClock

RULE = GuessingRule(max_failures=20, window=60, block_for=300)
NAME = "__Host-session"
OFFICE = "192.0.2.66"
CLIENTS = 48


def _client(i: int) -> ClientInfo:
    return ClientInfo(ip=OFFICE, user_agent=f"Browser/{i}")


def _manager(store: Any, clock: FakeClock, **options: Any) -> SessionManager:
    rules = AnomalyRules(guessing=RULE)
    return SessionManager(store, clock=clock, sinks=[], monitoring=Monitoring(rules), **options)


def _log_in_everyone(manager: SessionManager) -> list[str]:
    cookies = []
    for i in range(CLIENTS):
        session = manager.load(None, _client(i))
        session.login(f"user{i}")
        header = next(v for k, v in manager.commit(session) if k == "set-cookie")
        cookies.append(header.split(";")[0])
    return cookies


def _refused(manager: SessionManager, cookie: str, client: ClientInfo) -> bool:
    try:
        manager.load(cookie, client)
    except GuessingBlocked:
        return True
    return False


def _the_guesser_is_blocked(manager: SessionManager) -> bool:
    guesser = ClientInfo(ip=OFFICE, user_agent="curl")
    for _ in range(RULE.max_failures):
        manager.load(f"{NAME}={new_token()[:30]}", guesser)  # forged: malformed values
    return _refused(manager, f"{NAME}=forged", guesser)


def test_a_store_emptied_under_load_locks_nobody_out(clock: FakeClock) -> None:
    store = MemoryStore()
    manager = _manager(store, clock)
    cookies = _log_in_everyone(manager)
    assert store.delete_all() == CLIENTS  # the store lost everything (a restart, say)
    clock.advance(1)
    refused = [i for i, c in enumerate(cookies) if _refused(manager, c, _client(i))]
    assert refused == []
    # And again on the next page and its assets: still nobody refused.
    assert not any(_refused(manager, c, _client(i)) for i, c in enumerate(cookies))
    assert _the_guesser_is_blocked(manager)
    # While the guesser is blocked, every returning user can still log in afresh.
    again = _log_in_everyone(manager)
    assert all(manager.load(c, _client(i)).is_authenticated for i, c in enumerate(again))


def test_replayed_logged_out_cookies_are_not_guesses(clock: FakeClock) -> None:
    manager = _manager(MemoryStore(), clock)
    cookies = _log_in_everyone(manager)[:20]
    for i, cookie in enumerate(cookies):
        manager.load(cookie, _client(i)).logout()
    for i, cookie in enumerate(cookies):
        assert not _refused(manager, cookie, _client(i))
        assert manager.load(cookie, _client(i)).user_id is None
    assert manager.retry_after(_client(0), cookies[0]) is None


@pytest.mark.parametrize("backend", ["redis", "postgres"])
def test_mass_loss_on_a_shared_store_across_two_instances(
    backend: str, clock: FakeClock, shared_store: Any
) -> None:
    """Two app instances share the store, the key ring and the guard's counters."""
    from sessionward import SecretKeyRing

    store = shared_store(backend)
    keys = SecretKeyRing.generate()
    first, second = _manager(store, clock, token_keys=keys), _manager(store, clock, token_keys=keys)
    cookies = _log_in_everyone(first)
    store.delete_all()
    for i, cookie in enumerate(cookies):
        instance = first if i % 2 else second
        assert not _refused(instance, cookie, _client(i))
    guesser = ClientInfo(ip=OFFICE, user_agent="curl")
    for n in range(RULE.max_failures):
        instance = first if n % 2 else second
        instance.load(f"{NAME}={new_token(SecretKeyRing.generate())}", guesser)  # wrong key
    assert _refused(first, f"{NAME}=forged", guesser)
    assert _refused(second, f"{NAME}=forged", guesser)
    assert not any(_refused(second, c, _client(i)) for i, c in enumerate(cookies))


@pytest.mark.anyio
@pytest.mark.parametrize("backend", ["redis", "postgres"])
async def test_a_shared_store_emptied_under_concurrent_load(backend: str, clock: FakeClock) -> None:
    """48 browsers behind one address keep requesting over ASGI on an async shared store while
    it loses every session; when they return, none is refused, and the guesser still is."""
    import asyncio

    import httpx

    from sessionward import AsyncSessionManager, SecretKeyRing
    from sessionward.integrations.asgi import SessionMiddleware

    from .conftest import async_shared_store

    async with async_shared_store(backend) as store:
        manager = AsyncSessionManager(
            store,
            clock=clock,
            sinks=[],
            monitoring=Monitoring(AnomalyRules(guessing=RULE)),
            token_keys=SecretKeyRing.generate(),
        )

        async def page(scope: Any, receive: Any, send: Any) -> None:
            session = scope["session"]
            if scope["path"] == "/login":
                await session.login("user")
            status = 200 if session.is_authenticated else 401
            await send({"type": "http.response.start", "status": status, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        def resolver(scope: Any) -> ClientInfo:
            headers = dict(scope["headers"])
            return ClientInfo(ip=OFFICE, user_agent=headers.get(b"user-agent", b"").decode())

        app = SessionMiddleware(page, manager=manager, client_resolver=resolver)
        browsers = [
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="https://test",
                headers={"user-agent": f"Browser/{i}"},
            )
            for i in range(CLIENTS)
        ]
        try:
            await asyncio.gather(*(b.get("/login") for b in browsers))
            during = asyncio.gather(*(b.get("/") for b in browsers for _ in range(3)))
            await store.delete_all()
            await during
            after = await asyncio.gather(*(b.get("/") for b in browsers for _ in range(3)))
            assert [r.status_code for r in after if r.status_code == 429] == []
            guesser = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="https://test"
            )
            browsers.append(guesser)
            for n in range(RULE.max_failures):
                await guesser.get("/", headers={"cookie": f"{NAME}=forged{n}"})
            refused = await guesser.get("/", headers={"cookie": f"{NAME}=forged"})
            assert refused.status_code == 429
            again = await asyncio.gather(*(b.get("/login") for b in browsers[:-1]))
            assert {r.status_code for r in again} == {200}
        finally:
            for b in browsers:
                await b.aclose()
