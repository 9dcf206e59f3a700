"""Cookie tossing in a real browser (issue 9, item 1).

Two host names resolve to 127.0.0.1: ``app.sw.test`` runs the demo, ``evil.sw.test`` is a
sibling the attacker controls. The sibling sets a cookie for the whole parent domain under the
name ``"\\xa0__Host-session"``: to Chromium that is not a ``__Host-`` cookie (the name does not
start with the prefix), so ``Domain=sw.test`` is allowed, the browser stores it and sends it to
the app byte for byte. A reader that ``strip()``s names took it for the session cookie: a
visitor was logged in as the attacker, and a logged-in user got an ambiguous duplicate.
"""

from __future__ import annotations

import http.server
import re
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from conftest import require_service

from .conftest import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, _chromium_problem
from .servers import PASSWORD, Server

COOKIE = "__Host-session"
TOSSED = "\xa0" + COOKIE
_LOGGED_IN_AS = re.compile(r"You are logged in as <code>([^<]+)</code>")


@pytest.fixture(scope="module")
def sibling_browser() -> Iterator[Any]:
    """Chromium that resolves every ``*.sw.test`` name to 127.0.0.1."""
    require_service("chromium", _chromium_problem())
    from playwright.sync_api import sync_playwright

    args = [*CHROMIUM_ARGS, "--host-resolver-rules=MAP *.sw.test 127.0.0.1"]
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=args, headless=True, timeout=30_000
        )
        try:
            yield chromium
        finally:
            chromium.close()


def new_context(browser: Any) -> Any:
    ctx = browser.new_context(ignore_https_errors=True)
    ctx.set_default_timeout(TIMEOUT_MS)
    ctx.set_default_navigation_timeout(TIMEOUT_MS)
    return ctx


@contextmanager
def evil_sibling(certificate: Path, key: Path, value: str) -> Iterator[int]:
    """An HTTPS server whose every page tosses ``TOSSED=value`` onto the parent domain."""
    body = b"<!doctype html><title>cute cats</title><p>cats"

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            # send_header encodes as Latin-1: the name goes out with a raw 0xA0 byte.
            self.send_header(
                "set-cookie", f"{TOSSED}={value}; Domain=sw.test; Path=/; Secure; SameSite=Lax"
            )
            self.send_header("content-type", "text/html; charset=utf-8")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def app_origin(demo: Server) -> str:
    return demo.origin.replace("127.0.0.1", "app.sw.test")


def log_in(page: Any, origin: str, username: str) -> None:
    page.goto(origin + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_url(origin + "/")


def logged_in_as(page: Any, origin: str) -> str | None:
    page.goto(origin + "/")
    match = _LOGGED_IN_AS.search(page.content())
    return match.group(1) if match else None


def toss(context: Any, demo: Server, value: str) -> None:
    with evil_sibling(demo.certificate, demo.state_dir / "key.pem", value) as port:
        page = context.new_page()
        page.goto(f"https://evil.sw.test:{port}/")
        page.close()
    # The browser stored it for the parent domain: the attack is real, not a no-op. (Playwright
    # reports the name without its leading 0xA0; the wire carries the byte.)
    tossed = [c for c in context.cookies() if c["domain"] in (".sw.test", "sw.test")]
    assert [c["value"] for c in tossed] == [value]


def test_a_cookie_tossed_by_a_sibling_host_logs_no_one_in_as_the_attacker(
    sibling_browser: Any, demo: Server
) -> None:
    origin = app_origin(demo)
    attacker = new_context(sibling_browser)
    victim = new_context(sibling_browser)
    try:
        page = attacker.new_page()
        log_in(page, origin, "bob")
        attacker_token = next(c["value"] for c in attacker.cookies() if c["name"] == COOKIE)

        toss(victim, demo, attacker_token)
        page = victim.new_page()
        assert logged_in_as(page, origin) is None  # not bob
        log_in(page, origin, "alice")
        assert logged_in_as(page, origin) == "alice"
        assert logged_in_as(page, origin) == "alice"  # and still on the next request
    finally:
        attacker.close()
        victim.close()


def test_a_logged_in_user_stays_logged_in_after_a_toss(sibling_browser: Any, demo: Server) -> None:
    origin = app_origin(demo)
    victim = new_context(sibling_browser)
    try:
        page = victim.new_page()
        log_in(page, origin, "alice")
        toss(victim, demo, "A" * 43)
        assert logged_in_as(page, origin) == "alice"
    finally:
        victim.close()
