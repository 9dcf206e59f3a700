"""The demo offers DBSC after login and shows each session's binding on /sessions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from integration.demo_client import COOKIE, Demo, login, submit

from .client import Key, sf

pytestmark = pytest.mark.anyio


async def test_demo_binds_after_login_and_shows_it(tmp_path: Path) -> None:
    demo = Demo(tmp_path)
    key = Key()
    async with demo.client() as browser, demo.client("Other/2.0") as laptop:
        await login(laptop)  # a second, unbound session of the same user
        response = await login(browser)
        offer = response.headers["secure-session-registration"]
        path = re.search(r'path="([^"]+)"', offer)
        challenge = re.search(r'challenge="([^"]+)"', offer)
        assert path is not None and challenge is not None
        proof = key.proof(challenge.group(1), registration=True)
        registered = await browser.post(
            path.group(1), headers={"secure-session-response": sf(proof)}
        )
        assert registered.status_code == 200
        page = (await browser.get("/sessions")).text
        assert page.count("bound to a device key (ES256") == 1
        assert page.count("not bound") == 1

        # A copy of the browser's cookies, on a machine without the key:
        stolen = {COOKIE: browser.cookies[COOKIE], "__Host-bound": browser.cookies["__Host-bound"]}
        demo.clock.advance(601)
        async with demo.client("Thief/1.0") as thief:
            thief.cookies.update(stolen)
            assert (await thief.get("/sessions")).status_code == 303  # to /login
        # The unbound session keeps working as before.
        assert "Your active sessions" in (await laptop.get("/sessions")).text
        await submit(laptop, "/sessions", "/logout-everywhere")
