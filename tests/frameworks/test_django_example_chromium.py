"""The example Django project in Chromium: sign in, see the sessions page, sign out.

The project runs as a developer would start it (``manage.py runserver`` with
``EXAMPLE_DEBUG=1``, plain HTTP on a free loopback port), in a process stopped at the end.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser.conftest import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, _chromium_problem
from conftest import require_service
from distributed.services import free_port

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "django_project"
PASSWORD = "chromium-test-password"


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=EXAMPLE, env=env, check=True, timeout=60
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    require_service("chromium", _chromium_problem())
    env = {**os.environ, "EXAMPLE_DEBUG": "1", "EXAMPLE_DB": str(tmp_path / "db.sqlite3")}
    env["EXAMPLE_SESSION_STORE"] = f"sqlite:///{tmp_path / 'sessions.sqlite3'}"
    _manage(env, "migrate", "--verbosity", "0")
    create = (
        "from django.contrib.auth.models import User; "
        f"User.objects.create_user('alice', password='{PASSWORD}')"
    )
    _manage(env, "shell", "-c", create)
    port = free_port()
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=EXAMPLE,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp_path / "server.log").read_text())
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_sign_in_sessions_page_and_sign_out(server: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser: Any = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, timeout=30_000
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(server + "/")
            assert page.text_content("#who") == "Not signed in"
            page.click("#login")
            page.fill("input[name=username]", "alice")
            page.fill("input[name=password]", PASSWORD)
            page.click("#submit")
            page.wait_for_selector("text=Signed in as alice")
            cookies = {c["name"]: c for c in page.context.cookies()}
            assert cookies["session"]["httpOnly"] is True
            page.goto(server + "/account/sessions/")
            assert page.locator("tr.current").count() == 1
            page.goto(server + "/")
            page.click("#logout")
            page.wait_for_selector("text=Not signed in")
            assert "session" not in {c["name"] for c in page.context.cookies()}
        finally:
            browser.close()
