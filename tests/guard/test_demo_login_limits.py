"""Issue 9 item 9 in the demo: /login, /reauth and /api/token limit wrong passwords.

Before the limiter each accepted unlimited guesses; now the attempt after the free ones gets
429 with Retry-After (never a 500), the form says how long to wait, and the owner, logging in
from where they did before, is not delayed by a stranger's failures.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from integration.demo_client import ORIGIN, PASSWORD, Demo, login, submit

pytestmark = pytest.mark.anyio
FREE = 5  # LoginLimits().account_free, the demo's setting


@pytest.fixture
def demo(tmp_path: Path) -> Demo:
    return Demo(tmp_path)


def elsewhere(demo: Demo, ip: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=demo.app, client=(ip, 50000)), base_url=ORIGIN
    )


async def wrong_login(client: httpx.AsyncClient, username: str = "alice") -> httpx.Response:
    return await submit(client, "/login", "/login", {"username": username, "password": "nope"})


async def test_login_form_says_to_wait_after_too_many_wrong_passwords(demo: Demo) -> None:
    async with elsewhere(demo, "192.0.2.50") as attacker:
        statuses = [(await wrong_login(attacker)).status_code for _ in range(FREE + 2)]
        assert statuses == [401] * (FREE + 1) + [429]
        limited = await submit(
            attacker, "/login", "/login", {"username": "alice", "password": PASSWORD}
        )
        assert limited.status_code == 429  # refused before the password is checked
        assert limited.headers["retry-after"] == "1"
        assert "Too many failed sign-in attempts. Try again in 1 second." in limited.text
        demo.clock.advance(1)
        assert (await login(attacker)).status_code == 303
    assert "session.anomaly" in demo.sink.kinds()


async def test_the_owner_is_not_locked_out_by_a_stranger(demo: Demo) -> None:
    async with demo.client() as owner:
        assert (await login(owner)).status_code == 303
        await owner.post("/logout", headers={"origin": ORIGIN, "sec-fetch-site": "same-origin"})
    async with elsewhere(demo, "192.0.2.50") as attacker:
        for _ in range(FREE + 10):
            await wrong_login(attacker)
            demo.clock.advance(0.5)
    async with demo.client() as owner:
        assert (await login(owner)).status_code == 303


async def test_the_token_api_answers_429_with_retry_after(demo: Demo) -> None:
    async with elsewhere(demo, "192.0.2.51") as client:
        body = {"username": "alice", "password": "nope"}
        codes = [(await client.post("/api/token", json=body)).status_code for _ in range(FREE + 2)]
        assert codes == [401] * (FREE + 1) + [429]
        limited = await client.post("/api/token", json={"username": "alice", "password": PASSWORD})
        assert limited.status_code == 429
        assert limited.json()["error"] == "too_many_attempts"
        assert int(limited.headers["retry-after"]) >= 1


async def test_reauth_limits_a_session_thief(demo: Demo) -> None:
    async with demo.client() as thief:
        await login(thief)
        codes = []
        for _ in range(FREE + 2):
            wrong = await submit(thief, "/reauth?next=/sessions", "/reauth", {"password": "x"})
            codes.append(wrong.status_code)
        # The session's own address is known (it logged in there), so the pair's budget
        # applies: the same number of free attempts, then backoff.
        assert codes == [401] * (FREE + 1) + [429]
        assert "Try again in" in wrong.text
