"""The demo as a user meets it: Chromium, over HTTPS, against a real uvicorn process."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import TIMEOUT_MS
from .servers import PASSWORD, Server, attacker_site, demo_server

COOKIE = "__Host-session"


def log_in(page: Any, demo: Server, username: str = "alice") -> None:
    page.goto(demo.origin + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_url(demo.origin + "/")


def session_cookie(context: Any) -> dict[str, Any] | None:
    return next((c for c in context.cookies() if c["name"] == COOKIE), None)


def handle_on(page: Any) -> str:
    text: str = page.text_content("#handle")
    return text


def test_login_sets_a_host_only_secure_httponly_lax_cookie_that_scripts_cannot_see(
    context: Any, demo: Server
) -> None:
    page = context.new_page()
    log_in(page, demo)
    cookie = session_cookie(context)
    assert cookie is not None
    assert cookie["secure"] is True
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/"
    assert cookie["domain"] == "127.0.0.1"  # host-only: no Domain attribute
    assert re.fullmatch(r"[A-Za-z0-9_-]{65}", cookie["value"])  # 256 random bits + a tag
    assert COOKIE not in page.evaluate("document.cookie")
    assert "__Host-csrf" not in page.evaluate("document.cookie")
    # The one inline script carries the CSP nonce, and so it ran.
    assert page.evaluate("document.documentElement.dataset.js") == "on"


def test_script_in_a_display_name_is_shown_as_text_and_never_runs(
    context: Any, demo: Server
) -> None:
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, demo, "bob")
    assert page.text_content("#display-name") == "Bob <script>alert('xss')</script>"
    assert page.locator("#display-name script").count() == 0
    page.reload()
    assert dialogs == []


def test_logout_clears_the_cookie_and_back_does_not_show_the_page_from_cache(
    context: Any, demo: Server
) -> None:
    page = context.new_page()
    log_in(page, demo)
    assert "Welcome" in page.content()
    page.click("#logout")
    page.wait_for_url(re.compile(r".*/login\?bye=1$"))
    assert session_cookie(context) is None
    page.go_back()
    page.wait_for_load_state()
    assert "Welcome" not in page.content()
    assert page.url == demo.origin + "/login"  # re-requested, and redirected to log in


def test_a_form_on_another_origin_cannot_act_for_the_victim(context: Any, demo: Server) -> None:
    page = context.new_page()
    log_in(page, demo)
    before = handle_on(page)
    cookie_before = session_cookie(context)
    key = demo.state_dir / "key.pem"
    with attacker_site(demo.certificate, key, demo.origin + "/logout-everywhere") as evil:
        page.goto(evil)
        page.wait_for_url(demo.origin + "/logout-everywhere")
        page.wait_for_load_state()
        assert "403 Forbidden" in page.content()
        assert "fetch-metadata-cross-site" in page.content()
    assert session_cookie(context) == cookie_before
    page.goto(demo.origin + "/")
    assert handle_on(page) == before
    log = demo.log.read_text()
    assert '"kind":"csrf.rejected"' in log and '"sec_fetch_site":"same-site"' in log


def test_a_session_revoked_from_another_browser_is_logged_out_on_its_next_navigation(
    browser: Any, context: Any, demo: Server
) -> None:
    laptop = context.new_page()
    log_in(laptop, demo)
    laptop_handle = handle_on(laptop)
    phone_context = browser.new_context(ignore_https_errors=True)
    phone_context.set_default_timeout(TIMEOUT_MS)
    try:
        phone = phone_context.new_page()
        log_in(phone, demo)
        phone.goto(demo.origin + "/sessions")
        phone.click(f'tr[data-handle="{laptop_handle}"] button')
        phone.wait_for_url(demo.origin + "/sessions")
        assert phone.locator(f'tr[data-handle="{laptop_handle}"]').count() == 0
    finally:
        phone_context.close()
    laptop.goto(demo.origin + "/sessions")
    assert laptop.url == demo.origin + "/login"


@pytest.fixture(scope="module")
def short_idle_demo(tmp_path_factory: pytest.TempPathFactory, demo: Server) -> Iterator[Server]:
    with demo_server(tmp_path_factory.mktemp("idle"), "--idle-timeout", "2") as server:
        yield server


def test_an_idle_page_is_logged_out_on_its_next_request(
    context: Any, short_idle_demo: Server
) -> None:
    page = context.new_page()
    log_in(page, short_idle_demo)
    assert "Welcome" in page.content()
    # The one real wait in the suite: the server's idle clock is the wall clock here.
    page.wait_for_timeout(2_500)
    page.reload()
    assert page.url == short_idle_demo.origin + "/login"
    assert "Welcome" not in page.content()


def test_state_dir_holds_the_certificate(demo: Server) -> None:
    assert Path(demo.certificate).exists()
