"""The seed's login and logout flows, end to end over HTTP against the demo application."""

from __future__ import annotations

from pathlib import Path

import pytest

from sessionward.core.session_tokens import random_part, session_key

from .demo_client import COOKIE, PASSWORD, Demo, login, session_cookie, submit

pytestmark = pytest.mark.anyio


@pytest.fixture
def demo(tmp_path: Path) -> Demo:
    return Demo(tmp_path)


async def test_login_flow(demo: Demo) -> None:
    async with demo.client() as client:
        first = await client.get("/")
        assert first.status_code == 303 and first.headers["location"] == "/login"
        response = await login(client)
        assert response.status_code == 303
        set_cookie = response.headers["set-cookie"]
        assert set_cookie.startswith(f"{COOKIE}=")
        for attribute in ("Path=/", "Secure", "HttpOnly", "SameSite=Lax", "Max-Age=900"):
            assert attribute in set_cookie
        assert "Domain" not in set_cookie
        home = await client.get("/")
        assert home.status_code == 200
        assert "Alice Liddell" in home.text
        assert home.headers["cache-control"] == "no-store"
        assert "Cookie" in home.headers["vary"]
    assert demo.sink.kinds().count("login.succeeded") == 1


async def test_wrong_password_is_401_with_an_event_and_no_session(demo: Demo) -> None:
    async with demo.client() as client:
        response = await submit(
            client, "/login", "/login", {"username": "alice", "password": "nope"}
        )
        assert response.status_code == 401
        assert "wrong password" in response.text
        assert session_cookie(client) is None or (await client.get("/")).status_code == 303
    assert "login.failed" in demo.sink.kinds()
    assert [r.user_id for r in demo.store.list_all() if r.user_id] == []


async def test_logout_flow_destroys_server_record_and_cookie(demo: Demo) -> None:
    async with demo.client() as client:
        await login(client)
        token = session_cookie(client)
        assert token is not None
        response = await submit(client, "/", "/logout")
        assert response.status_code == 303
        assert response.headers["location"] == "/login?bye=1"
        assert "Max-Age=0" in response.headers["set-cookie"]
        assert response.headers["clear-site-data"] == '"cache", "cookies", "storage"'
        assert session_cookie(client) is None
        assert demo.store.get(session_key(token)) is None
        # Replaying the old cookie after logout gets nothing.
        client.cookies.set(COOKIE, token, domain="demo.test")
        replay = await client.get("/")
        assert replay.status_code == 303
    assert "session.logout" in demo.sink.kinds()
    assert demo.sink.kinds()[-1] == "session.id.unknown"


async def test_login_rotates_the_token_and_the_pre_login_one_dies(demo: Demo) -> None:
    async with demo.client() as client:
        await client.get("/login")
        pre = session_cookie(client)
        await login(client)
        post = session_cookie(client)
        assert post is not None and post != pre
        if pre is not None:
            assert demo.store.get(session_key(pre)) is None


async def test_a_cookie_planted_before_login_is_useless_after_login(demo: Demo) -> None:
    """Fixation: the attacker gets a real anonymous session and plants its cookie on the
    victim; after the victim logs in, the attacker's cookie is still anonymous."""
    async with demo.client() as attacker:
        await attacker.get("/login")
        # Force an anonymous session to exist by failing a login (stores nothing) ...
        # ... or by planting a syntactically valid but unknown token.
        planted = session_cookie(attacker) or "A" * 43
    async with demo.client() as victim:
        victim.cookies.set(COOKIE, planted, domain="demo.test")
        await login(victim)
        assert session_cookie(victim) != planted
    async with demo.client() as attacker:
        attacker.cookies.set(COOKIE, planted, domain="demo.test")
        assert (await attacker.get("/")).status_code == 303
    assert len(demo.store.list_all()) == 1


async def test_idle_expiry(demo: Demo) -> None:
    async with demo.client() as client:
        await login(client)
        demo.clock.advance(899)
        assert (await client.get("/")).status_code == 200
        demo.clock.advance(900)
        assert (await client.get("/")).status_code == 303
    assert "session.expired.idle" in demo.sink.kinds()


async def test_absolute_expiry_while_continuously_active(tmp_path: Path) -> None:
    demo = Demo(tmp_path, idle=600, absolute=3600)
    async with demo.client() as client:
        await login(client)
        statuses = []
        for _ in range(3700 // 50):
            demo.clock.advance(50)
            statuses.append((await client.get("/")).status_code)
        assert statuses[0] == 200
        assert 303 in statuses
        first_out = statuses.index(303)
        assert (first_out + 1) * 50 >= 3600 > first_out * 50
    assert "session.expired.absolute" in demo.sink.kinds()
    assert "session.expired.idle" not in demo.sink.kinds()


async def test_cookie_max_age_follows_the_remaining_lifetime(tmp_path: Path) -> None:
    demo = Demo(tmp_path, idle=600, absolute=1000)
    async with demo.client() as client:
        await login(client)
        ages = []
        for _ in range(12):
            demo.clock.advance(61)  # past the touch interval: every request refreshes
            response = await client.get("/")
            ages.append(int(response.headers["set-cookie"].split("Max-Age=")[1].split(";")[0]))
        # The idle clock restarts at each touch (600 s left) until the absolute deadline is
        # nearer; then Max-Age counts down to it and never points past it.
        assert ages[0] == 600
        assert ages[-1] == 1000 - 12 * 61


async def test_log_out_everywhere(demo: Demo) -> None:
    async with demo.client("Phone") as phone, demo.client("Laptop") as laptop:
        await login(phone)
        await login(laptop)
        page = await laptop.get("/sessions")
        assert "Phone" in page.text and "Laptop" in page.text
        response = await submit(laptop, "/sessions", "/logout-everywhere")
        assert response.status_code == 303
        assert (await phone.get("/")).status_code == 303
        assert (await laptop.get("/")).status_code == 303
    assert demo.store.list_all() == []


async def test_revoke_another_session_by_handle(demo: Demo) -> None:
    async with demo.client("Phone") as phone, demo.client("Laptop") as laptop:
        await login(phone)
        await login(laptop)
        phone_handle = next(r.handle for r in demo.store.list_all() if r.user_agent == "Phone")
        action = f"/sessions/{phone_handle}/revoke"
        response = await submit(laptop, "/sessions", action)
        assert response.status_code == 303
        assert (await phone.get("/")).status_code == 303
        assert (await laptop.get("/")).status_code == 200
        page = await laptop.get("/sessions")
        assert "Phone" not in page.text and "this session" in page.text


async def test_cannot_revoke_someone_elses_session(demo: Demo) -> None:
    async with demo.client() as alice, demo.client() as bob:
        await login(alice, "alice")
        await login(bob, "bob")
        bob_handle = next(r.handle for r in demo.store.list_all() if r.user_id == "bob")
        page = await alice.get("/sessions")
        assert bob_handle not in page.text
        fields = {"origin": "https://demo.test", "sec-fetch-site": "same-origin"}
        response = await alice.post(
            f"/sessions/{bob_handle}/revoke", headers=fields, data=_hidden(page.text)
        )
        assert response.status_code in (403, 404)
        assert (await bob.get("/")).status_code == 200


def _hidden(page: str) -> dict[str, str]:
    import re

    return dict(re.findall(r'type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page))


async def test_display_names_are_escaped(demo: Demo) -> None:
    async with demo.client() as client:
        await login(client, "bob")
        home = await client.get("/")
        assert "<script>alert" not in home.text
        assert "&lt;script&gt;alert" in home.text


async def test_seeded_passwords_are_argon2_hashed(demo: Demo) -> None:
    user = demo.users.get("alice")
    assert user is not None
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


async def test_raw_tokens_never_reach_the_database_file(demo: Demo) -> None:
    async with demo.client() as client:
        await login(client)
        token = session_cookie(client)
        assert token is not None
    raw = b"".join(p.read_bytes() for p in demo.config.store_path.parent.glob("demo.sqlite3*"))
    assert token.encode() not in raw
    assert random_part(token).encode() not in raw
    assert session_key(token).encode() in raw


async def test_static_pages_without_session_use_are_cacheable(demo: Demo) -> None:
    async with demo.client() as client:
        response = await client.get("/static/app.css")
        assert response.status_code == 200
        assert "set-cookie" not in response.headers
        assert response.headers.get("cache-control") != "no-store"
