"""The demo uses every web defence: tokens in every form, nonce-only scripts, escaping,
security headers, the HTTPS redirect, and cross-site requests that change nothing."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from integration.demo_client import ORIGIN, PASSWORD, Demo, hidden_fields, login

pytestmark = pytest.mark.anyio

_FORM = re.compile(r"<form\b[^>]*>(.*?)</form>", re.S)
_SCRIPT = re.compile(r"<script\b([^>]*)>", re.S)
HOSTILE = {"sec-fetch-site": "cross-site", "origin": "https://evil.test"}


@pytest.fixture
def demo(tmp_path: Path) -> Demo:
    return Demo(tmp_path)


def csrf_rejections(demo: Demo) -> list[str | None]:
    return [e.reason for e in demo.sink.events if e.kind == "csrf.rejected"]


async def test_every_form_on_every_page_carries_a_token(demo: Demo) -> None:
    async with demo.client() as client:
        pages = [(await client.get("/login")).text]
        await login(client)
        async with demo.client("Second/1.0") as other:
            await login(other)  # so the sessions page lists a revoke form for another session
        pages += [(await client.get(path)).text for path in ("/", "/sessions")]
    forms = [body for page in pages for body in _FORM.findall(page)]
    assert len(forms) >= 5
    for body in forms:
        assert re.search(r'name="csrf_token" value="[A-Za-z0-9_-]{86}"', body), body


async def test_script_display_name_is_inert_escaped_and_no_script_lacks_the_nonce(
    demo: Demo,
) -> None:
    async with demo.client() as client:
        await login(client, "bob")
        page = await client.get("/")
    assert "Bob &lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in page.text
    assert "<script>alert" not in page.text
    csp = page.headers["content-security-policy"]
    nonce = re.search(r"script-src 'strict-dynamic' 'nonce-([A-Za-z0-9_-]+)'", csp)
    assert nonce is not None
    scripts = _SCRIPT.findall(page.text)
    assert scripts == [f' nonce="{nonce.group(1)}"']
    assert "unsafe-inline" not in csp and "default-src 'none'" in csp


async def test_security_headers_on_pages_redirects_and_rejections(demo: Demo) -> None:
    async with demo.client() as client:
        responses = [
            await client.get("/login"),
            await client.get("/"),
            await client.post("/login", headers=HOSTILE),
        ]
    assert [r.status_code for r in responses] == [200, 303, 403]
    for response in responses:
        headers = response.headers
        assert headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert headers["cross-origin-opener-policy"] == "same-origin"


async def test_plain_http_is_redirected_to_https(demo: Demo) -> None:
    transport = httpx.ASGITransport(app=demo.app, client=("198.51.100.23", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://demo.test") as client:
        response = await client.post("/login", data={"username": "alice"})
    assert response.status_code == 308
    assert response.headers["location"] == "https://demo.test/login"


@pytest.mark.parametrize("path", ["/logout", "/logout-everywhere", "/sessions/abc/revoke"])
async def test_state_changing_routes_refuse_get(demo: Demo, path: str) -> None:
    async with demo.client() as client:
        await login(client)
        response = await client.get(path)
        assert response.status_code == 405
        assert (await client.get("/")).status_code == 200  # still logged in


@pytest.mark.parametrize("action", ["/logout", "/logout-everywhere"])
async def test_cross_site_post_is_rejected_and_the_victim_keeps_the_session(
    demo: Demo, action: str
) -> None:
    async with demo.client() as victim:
        await login(victim)
        home = await victim.get("/")
        handle = re.search(r'id="handle">([^<]+)<', home.text)
        fields = hidden_fields(home.text, "/logout")  # even with a valid token
        response = await victim.post(action, data=fields, headers=HOSTILE)
        assert response.status_code == 403
        again = await victim.get("/")
        assert again.status_code == 200
        assert handle is not None and handle.group(1) in again.text
    assert csrf_rejections(demo) == ["fetch-metadata-cross-site"]
    rejected = next(e for e in demo.sink.events if e.kind == "csrf.rejected")
    assert rejected.user_id == "alice" and rejected.detail["handle"] == handle.group(1)
    assert "session.logout" not in demo.sink.kinds()


async def test_login_csrf_is_rejected(demo: Demo) -> None:
    same_origin = {"origin": ORIGIN, "sec-fetch-site": "same-origin"}
    credentials = {"username": "alice", "password": PASSWORD}
    async with demo.client() as attacker, demo.client() as victim:
        attackers_fields = hidden_fields((await attacker.get("/login")).text, "/login")
        # No token at all, then the attacker's own (bound to the attacker's pre-session).
        missing = await victim.post("/login", data=credentials, headers=same_origin)
        foreign = await victim.post(
            "/login", data={**credentials, **attackers_fields}, headers=same_origin
        )
        assert (missing.status_code, foreign.status_code) == (403, 403)
        assert victim.cookies.get("__Host-session") is None
    assert csrf_rejections(demo) == ["token-missing", "no-session-or-presession"]
    assert "login.succeeded" not in demo.sink.kinds()


async def test_the_rejection_page_is_html_for_browsers_and_json_for_apis(demo: Demo) -> None:
    async with demo.client() as client:
        html = await client.post("/logout", headers={**HOSTILE, "accept": "text/html"})
        api = await client.post("/logout", headers={**HOSTILE, "accept": "application/json"})
    assert html.headers["content-type"].startswith("text/html") and "403" in html.text
    assert api.json()["reason"] == "fetch-metadata-cross-site"


def test_demo_http_redirect_port_option() -> None:
    from sessionward import ConfigurationError
    from sessionward.demo import config

    assert config.load(["--http-redirect-port", "8080"], env={}).http_redirect_port == 8080
    assert config.load([], env={}).http_redirect_port is None
    env = {"SESSIONWARD_DEMO_HTTP_REDIRECT_PORT": "8081"}
    assert config.load([], env=env).http_redirect_port == 8081
    for argv in (
        ["--http-redirect-port", "8443"],
        ["--http-redirect-port", "80", "--insecure-http"],
        ["--http-redirect-port", "0"],
    ):
        with pytest.raises(ConfigurationError, match="http-redirect-port"):
            config.load(argv, env={})


def test_every_template_form_has_a_token_and_every_script_the_nonce() -> None:
    """Static check over all demo templates, so a newly added page cannot forget either."""
    from sessionward.demo import app as demo_app

    templates = sorted((demo_app.HERE / "templates").glob("*.html"))
    assert templates
    for path in templates:
        text = path.read_text()
        for form in re.findall(r"<form\b.*?</form>", text, re.S | re.I):
            if re.search(r'method="post"', form, re.I):
                assert 'name="csrf_token" value="{{ csrf_token() }}"' in form, path.name
        for tag in re.findall(r"<script\b[^>]*>", text, re.I):
            assert 'nonce="{{ csp_nonce }}"' in tag, (path.name, tag)
        assert not re.search(r"\son[a-z]+\s*=", text, re.I), f"inline handler in {path.name}"
