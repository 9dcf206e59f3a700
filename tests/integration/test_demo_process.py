"""The README's first command, for real: the demo process serves HTTPS with a certificate it
generated, prints working credentials, and the login flow works over TLS."""

from __future__ import annotations

import os
import re
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def demo_process(tmp_path: Path) -> Iterator[tuple[int, Path, subprocess.Popen[str]]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SESSIONWARD_DEMO_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sessionward.demo",
            "--port",
            str(port),
            "--state-dir",
            str(tmp_path),
            "--idle-timeout",
            "300",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None:
                    raise AssertionError(f"demo exited: {proc.stdout.read()}") from None  # type: ignore[union-attr]
                time.sleep(0.1)
        else:
            raise AssertionError("demo did not start listening within 30 s")
        yield port, tmp_path, proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_demo_serves_tls_and_the_printed_password_logs_in(
    demo_process: tuple[int, Path, subprocess.Popen[str]],
) -> None:
    port, state, proc = demo_process
    cert = state / "cert.pem"
    assert cert.exists()
    assert (state / "key.pem").stat().st_mode & 0o077 == 0
    proc.terminate()
    output, _ = proc.communicate(timeout=10)
    password = re.search(r"^\s+alice\s+(\S+)$", output, re.M)
    assert password, output
    assert "https://127.0.0.1" in output
    assert "sessions.sqlite3 (SQLite)" in output
    # Start again: same certificate, new passwords; then log in over real TLS.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SESSIONWARD_DEMO_")}
    env["SESSIONWARD_DEMO_PASSWORD"] = "a fixed demo password"
    again = subprocess.Popen(
        [sys.executable, "-m", "sessionward.demo", "--port", str(port), "--state-dir", str(state)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        origin = f"https://127.0.0.1:{port}"
        with httpx.Client(
            base_url=origin, verify=ssl.create_default_context(cafile=str(cert)), timeout=5
        ) as client:
            for _ in range(300):
                try:
                    page = client.get("/login")
                    break
                except httpx.ConnectError:
                    time.sleep(0.1)
            assert page.status_code == 200
            hidden = dict(
                re.findall(r'type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page.text)
            )
            response = client.post(
                "/login",
                data={**hidden, "username": "alice", "password": "a fixed demo password"},
                headers={
                    "origin": origin,
                    "sec-fetch-site": "same-origin",
                    "referer": origin + "/login",
                },
            )
            assert response.status_code == 303, response.text
            assert "__Host-session" in response.headers["set-cookie"]
            assert client.get("/").status_code == 200
    finally:
        again.terminate()
        again.wait(timeout=10)
