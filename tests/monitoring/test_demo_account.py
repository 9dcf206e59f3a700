"""The demo's monitoring pages end to end: sessions with devices, re-authentication before
revoking and changing the password, disabling a user, login history, new-device notice,
metrics."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from integration.demo_client import ORIGIN, PASSWORD, Demo, login, session_cookie, submit
from sessionward.demo.account import REAUTH_MAX_AGE
from sessionward.monitoring import EventKind

from .helpers import FIREFOX, IPHONE

pytestmark = pytest.mark.anyio


@pytest.fixture
def demo(tmp_path: Path) -> Demo:
    return Demo(tmp_path)


def handles_on(page: str) -> list[str]:
    return re.findall(r'data-handle="([^"]+)"', page)


async def reauthenticate(client: httpx.AsyncClient, next_path: str) -> httpx.Response:
    return await submit(client, f"/reauth?next={next_path}", "/reauth", {"password": PASSWORD})


async def test_your_sessions_show_device_ip_created_last_seen_and_current(demo: Demo) -> None:
    async with demo.client(FIREFOX) as laptop, demo.client(IPHONE) as phone:
        await login(laptop)
        await login(phone)
        page = (await laptop.get("/sessions")).text
    assert "Firefox 130 on Linux" in page
    assert "Mobile Safari 17 on iOS 17 (iPhone)" in page
    assert "198.51.100.23" in page
    assert "<th>Created</th>" in page and "<th>Last seen</th>" in page
    assert page.count("this session") == 1
    assert re.search(r'<tr class="current"[^>]*>\s*<td title="[^"]*Firefox', page)


async def test_revoking_another_session_asks_for_the_password_when_auth_is_old(
    demo: Demo,
) -> None:
    async with demo.client(FIREFOX) as laptop, demo.client(IPHONE) as phone:
        await login(laptop)
        await login(phone)
        phone_handle = _current(await phone.get("/sessions"))
        demo.clock.advance(REAUTH_MAX_AGE + 1)
        asked = await submit(laptop, "/sessions", f"/sessions/{phone_handle}/revoke")
        assert asked.status_code == 303
        assert asked.headers["location"] == "/reauth?next=/sessions"
        assert (await phone.get("/")).status_code == 200  # not revoked yet
        before = session_cookie(laptop)
        wrong = await submit(laptop, "/reauth?next=/sessions", "/reauth", {"password": "nope"})
        assert wrong.status_code == 401
        done = await reauthenticate(laptop, "/sessions")
        assert done.status_code == 303 and done.headers["location"] == "/sessions"
        assert session_cookie(laptop) != before  # re-authentication issued a new token
        revoked = await submit(laptop, "/sessions", f"/sessions/{phone_handle}/revoke")
        assert revoked.headers["location"] == "/sessions"
        assert (await phone.get("/")).headers["location"] == "/login"
    kinds = demo.sink.kinds()
    assert "session.reauthenticated" in kinds
    failed = [e for e in demo.sink.events if e.kind is EventKind.LOGIN_FAILED]
    assert failed[-1].reason == "re-authentication failed"


def _current(response: httpx.Response) -> str:
    match = re.search(r'<tr class="current" data-handle="([^"]+)"', response.text)
    assert match is not None
    return match.group(1)


async def test_logging_yourself_out_never_needs_the_password(demo: Demo) -> None:
    async with demo.client(FIREFOX) as laptop:
        await login(laptop)
        demo.clock.advance(REAUTH_MAX_AGE + 1)
        mine = _current(await laptop.get("/sessions"))
        bye = await submit(laptop, "/sessions", f"/sessions/{mine}/revoke")
        assert bye.headers["location"] == "/login?bye=1"


async def test_reauth_refuses_open_redirects(demo: Demo) -> None:
    async with demo.client(FIREFOX) as laptop:
        await login(laptop)
        for evil in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
            done = await submit(
                laptop, "/reauth?next=/", "/reauth", {"password": PASSWORD, "next": evil}
            )
            assert done.headers["location"] == "/"


async def test_change_password_requires_reauth_and_can_end_other_sessions(demo: Demo) -> None:
    async with demo.client(FIREFOX) as laptop, demo.client(IPHONE) as phone:
        await login(laptop)
        await login(phone)
        demo.clock.advance(REAUTH_MAX_AGE + 1)
        asked = await laptop.get("/account/password")
        assert asked.status_code == 303
        assert asked.headers["location"] == "/reauth?next=/account/password"
        await reauthenticate(laptop, "/account/password")
        form = await laptop.get("/account/password")
        assert form.status_code == 200 and 'name="end_others"' in form.text
        short = await submit(
            laptop,
            "/account/password",
            "/account/password",
            {"new_password": "short", "confirm_password": "short"},
        )
        assert short.status_code == 400
        new = "a much better passphrase"
        changed = await submit(
            laptop,
            "/account/password",
            "/account/password",
            {"new_password": new, "confirm_password": new, "end_others": "1"},
        )
        assert changed.headers["location"] == "/account/password?done=1"
        assert "1 other session(s) ended" in (await laptop.get(changed.headers["location"])).text
        assert (await phone.get("/")).headers["location"] == "/login"
        assert (await laptop.get("/")).status_code == 200
    async with demo.client(FIREFOX) as again:
        assert (await login(again)).status_code == 401
        assert (
            await submit(again, "/login", "/login", {"username": "alice", "password": new})
        ).status_code == 303


async def test_disabling_a_user_ends_all_their_sessions_at_once(demo: Demo) -> None:
    async with (
        demo.client(FIREFOX) as admin,
        demo.client(FIREFOX) as bob1,
        demo.client(IPHONE) as bob2,
    ):
        await login(admin, "alice")
        await login(bob1, "bob")
        await login(bob2, "bob")
        page = await admin.get("/admin/users")
        assert page.status_code == 200 and 'data-user="bob"' in page.text
        done = await submit(admin, "/admin/users", "/admin/users/bob/disable")
        assert done.headers["location"] == "/admin/users?ended=2"
        for client in (bob1, bob2):
            assert (await client.get("/")).headers["location"] == "/login"
        assert (await login(bob1, "bob")).status_code == 401
        # bob is no administrator
        await submit(admin, "/admin/users", "/admin/users/bob/enable")
        await login(bob1, "bob")
        assert (await bob1.get("/admin/users")).status_code == 403
    revoked = [e for e in demo.sink.events if e.kind is EventKind.REVOKED]
    assert [(e.user_id, e.reason) for e in revoked] == [("bob", "admin"), ("bob", "admin")]


async def test_login_history_lists_the_users_events_with_new_device_notice(demo: Demo) -> None:
    async with demo.client(FIREFOX) as laptop:
        await login(laptop)
        await submit(laptop, "/", "/logout")
        await submit(laptop, "/login", "/login", {"username": "alice", "password": "wrong"})
    async with demo.client(IPHONE) as phone:
        arrived = await login(phone)
        home = await phone.get(arrived.headers["location"])
        assert "New sign-in to your account on Mobile Safari 17 on iOS 17 (iPhone)" in home.text
        assert "New sign-in" not in (await phone.get("/")).text  # shown once
        history = (await phone.get("/history")).text
    rows = re.findall(r'<tr class="([^"]+)">', history)
    assert rows[:3] == ["login-new_device current", "login-succeeded current", "login-failed"]
    assert "Firefox 130 on Linux" in history and "198.51.100.23" in history
    assert "<strong>New device</strong>" in history


async def test_the_new_device_hook_is_not_triggered_by_the_same_device(demo: Demo) -> None:
    for _ in range(2):
        async with demo.client(FIREFOX) as laptop:
            arrived = await login(laptop)
            assert "New sign-in" not in (await laptop.get(arrived.headers["location"])).text
    assert "login.new_device" not in demo.sink.kinds()


async def test_metrics_are_served_to_loopback_only(demo: Demo) -> None:
    async with demo.client(FIREFOX) as laptop:
        await login(laptop)
        assert (await laptop.get("/metrics")).status_code == 404
    local = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=demo.app, client=("127.0.0.1", 4000)),
        base_url=ORIGIN,
    )
    async with local:
        metrics = await local.get("/metrics")
    assert metrics.status_code == 200
    assert "sessionward_logins_total 1.0" in metrics.text
    assert "sessionward_active_sessions 1.0" in metrics.text
