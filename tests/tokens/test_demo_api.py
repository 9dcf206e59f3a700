"""The demo's token API end to end: password and session login, refresh (body and cookie),
/api/me, the JWKS document, and revocation by logout."""

from __future__ import annotations

import base64
import html
import json
import re
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest

from sessionward import StoreUnavailable
from sessionward.demo import DemoConfig, create_app
from sessionward.demo.users import UserDirectory, seed_users
from sessionward.monitoring import MemorySink
from sessionward.testing import FakeClock
from sessionward.tokens import SigningKey

pytestmark = pytest.mark.anyio
PASSWORD = "correct horse battery staple"
ORIGIN = "https://demo.test"
SAME_ORIGIN = {"origin": ORIGIN, "sec-fetch-site": "same-origin"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Demo:
    def __init__(self, tmp: Path) -> None:
        self.clock = FakeClock()
        self.sink = MemorySink()
        self.config = DemoConfig(state_dir=tmp, store=tmp / "demo.sqlite3")
        self.app = create_app(
            self.config, UserDirectory(seed_users(PASSWORD)), clock=self.clock, sinks=[self.sink]
        )

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app, client=("198.51.100.7", 4000)),
            base_url=ORIGIN,
        )


@pytest.fixture
def demo(tmp_path: Path) -> Demo:
    return Demo(tmp_path)


async def password_login(client: httpx.AsyncClient, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/token", json={"username": "alice", "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith('Bearer realm="sessionward-demo"')


async def test_password_login_me_refresh_and_logout(demo: Demo) -> None:
    async with demo.client() as client:
        assert_refused(await password_login(client, "wrong"))
        issued = await password_login(client)
        assert issued.status_code == 200
        body: dict[str, Any] = issued.json()
        assert body["token_type"] == "Bearer" and body["expires_in"] == 300
        assert issued.headers["cache-control"] == "no-store"
        me = await client.get("/api/me", headers=bearer(body["access_token"]))
        assert me.status_code == 200
        assert me.json()["user"] == "alice" and me.json()["display_name"] == "Alice Liddell"

        refreshed = await client.post(
            "/api/token/refresh", json={"refresh_token": body["refresh_token"]}
        )
        assert refreshed.status_code == 200
        new = refreshed.json()
        assert new["refresh_token"] != body["refresh_token"]

        out = await client.post("/api/logout", headers=bearer(new["access_token"]))
        assert out.status_code == 200 and out.json() == {"logged_out": True}
        assert_refused(await client.get("/api/me", headers=bearer(new["access_token"])))
        assert_refused(await client.get("/api/me", headers=bearer(body["access_token"])))
        assert_refused(
            await client.post("/api/token/refresh", json={"refresh_token": new["refresh_token"]})
        )
    assert "login.failed" in demo.sink.kinds()


async def test_refresh_replay_in_the_demo_ends_the_session(demo: Demo) -> None:
    async with demo.client() as client:
        body = (await password_login(client)).json()
        first = {"refresh_token": body["refresh_token"]}
        assert (await client.post("/api/token/refresh", json=first)).status_code == 200
        demo.clock.advance(60)
        assert_refused(await client.post("/api/token/refresh", json=first))
        assert_refused(await client.get("/api/me", headers=bearer(body["access_token"])))
    assert "token.refresh.reused" in demo.sink.kinds()


async def login_browser(client: httpx.AsyncClient) -> str:
    page = (await client.get("/login")).text
    token = html.unescape(_CSRF.search(page).group(1))  # type: ignore[union-attr]
    response = await client.post(
        "/login",
        data={"username": "alice", "password": PASSWORD, "csrf_token": token},
        headers={**SAME_ORIGIN, "referer": ORIGIN + "/login"},
    )
    assert response.status_code == 303, response.text
    home = (await client.get("/")).text
    return html.unescape(_CSRF.search(home).group(1))  # type: ignore[union-attr]


async def test_session_login_gets_tokens_with_a_refresh_cookie(demo: Demo) -> None:
    async with demo.client() as client:
        csrf = await login_browser(client)
        # The cookie-authenticated routes are CSRF-protected: no token, no tokens.
        refused = await client.post("/api/browser/token", headers=SAME_ORIGIN)
        assert refused.status_code == 403
        issued = await client.post(
            "/api/browser/token", headers={**SAME_ORIGIN, "x-csrf-token": csrf}
        )
        assert issued.status_code == 200, issued.text
        assert "refresh_token" not in issued.json()
        set_cookie = issued.headers["set-cookie"]
        assert set_cookie.startswith("__Host-refresh=swrt_")
        for attribute in ("Path=/", "Secure", "HttpOnly", "SameSite=Strict"):
            assert attribute in set_cookie
        access = issued.json()["access_token"]
        assert (await client.get("/api/me", headers=bearer(access))).status_code == 200

        cookie_before = client.cookies.get("__Host-refresh")
        refreshed = await client.post(
            "/api/browser/refresh", headers={**SAME_ORIGIN, "x-csrf-token": csrf}
        )
        assert refreshed.status_code == 200, refreshed.text
        assert client.cookies.get("__Host-refresh") != cookie_before
        cross_site = await client.post(
            "/api/browser/refresh",
            headers={"origin": "https://evil.example", "sec-fetch-site": "cross-site"},
        )
        assert cross_site.status_code == 403

        # Logging out of the browser session ends the tokens bound to it.
        page = (await client.get("/")).text
        token = html.unescape(_CSRF.search(page).group(1))  # type: ignore[union-attr]
        out = await client.post(
            "/logout", data={"csrf_token": token}, headers={**SAME_ORIGIN, "referer": ORIGIN}
        )
        assert out.status_code == 303
        assert_refused(await client.get("/api/me", headers=bearer(access)))
        after = await client.post(
            "/api/browser/refresh", headers={**SAME_ORIGIN, "x-csrf-token": csrf}
        )
        assert after.status_code in (401, 403)


async def test_jwks_and_the_generated_development_key(demo: Demo) -> None:
    key_file = demo.config.state_dir / "jwt-signing-key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    async with demo.client() as client:
        jwks = (await client.get("/.well-known/jwks.json")).json()
        issued = (await password_login(client)).json()
    assert len(jwks["keys"]) == 1
    key = SigningKey.from_jwk(jwks["keys"][0])
    assert key.algorithm == "EdDSA" and not key.can_sign
    assert "d" not in jwks["keys"][0]
    header = issued["access_token"].split(".")[0]
    decoded = json.loads(base64.urlsafe_b64decode(header + "=="))
    assert decoded == {"alg": "EdDSA", "kid": key.kid, "typ": "at+jwt"}
    # The same key is reused on the next start.
    again = Demo(demo.config.state_dir)
    async with again.client() as client:
        assert (await client.get("/.well-known/jwks.json")).json() == jwks


async def test_api_errors_are_401_never_500(demo: Demo) -> None:
    async with demo.client() as client:
        for body in (b"", b"[]", b"{", b'{"username": 1}', b"x" * 10000):
            response = await client.post(
                "/api/token", content=body, headers={"content-type": "application/json"}
            )
            assert_refused(response)
            response = await client.post(
                "/api/token/refresh", content=body, headers={"content-type": "application/json"}
            )
            assert_refused(response)
        assert_refused(await client.get("/api/me"))
        assert_refused(await client.post("/api/logout"))
        assert_refused(await client.get("/api/me", headers={"authorization": "Bearer x.y.z"}))


def test_insecure_development_mode_uses_a_development_refresh_cookie(tmp_path: Path) -> None:
    config = DemoConfig(state_dir=tmp_path, insecure_http=True)
    with pytest.warns(UserWarning, match="insecure development cookies"):
        app = create_app(config, UserDirectory(seed_users(PASSWORD)), clock=FakeClock())
    api = app.state.demo_api
    assert api.cookie.name == "refresh"
    assert "Secure" not in api.cookie.clear()


class _DownTokenStore:
    def __getattr__(self, name: str) -> Any:
        async def fail(*args: Any, **kwargs: Any) -> Any:
            raise StoreUnavailable("token store down")

        return fail


async def test_token_store_outage_is_503_not_500(demo: Demo) -> None:
    async with demo.client() as client:
        body = (await password_login(client)).json()
        demo.app.state.demo_api.tokens.store = _DownTokenStore()
        down = await password_login(client)
        assert down.status_code == 503 and down.headers["retry-after"] == "5"
        refresh = await client.post(
            "/api/token/refresh", json={"refresh_token": body["refresh_token"]}
        )
        assert refresh.status_code == 503
        # Strict verification reads only the session store, which is up.
        me = await client.get("/api/me", headers=bearer(body["access_token"]))
        assert me.status_code == 200
        out = await client.post("/api/logout", headers=bearer(body["access_token"]))
        assert out.status_code == 503
