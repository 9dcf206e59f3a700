"""Real processes for the browser tests: the demo under uvicorn over HTTPS, and an attacker's
page on a second local origin."""

from __future__ import annotations

import http.server
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PASSWORD = "browser-test-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Server:
    origin: str
    state_dir: Path
    log: Path

    @property
    def certificate(self) -> Path:
        return self.state_dir / "cert.pem"


def _wait_until_ready(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the demo exited early:\n{log.read_text()}")
        try:
            with (
                socket.create_connection(("127.0.0.1", port), timeout=0.5) as raw,
                context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
            ):
                tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                if tls.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the demo did not answer within 30 s:\n{log.read_text()}")


@contextmanager
def demo_server(state_dir: Path, *extra: str) -> Iterator[Server]:
    """``python -m sessionward.demo`` on a free port over TLS, stopped on exit."""
    port = free_port()
    log = state_dir / "demo.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SESSIONWARD_DEMO_")}
    env["SESSIONWARD_DEMO_PASSWORD"] = PASSWORD
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sessionward.demo",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--state-dir",
                str(state_dir),
                *extra,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        _wait_until_ready(port, proc, log)
        yield Server(f"https://127.0.0.1:{port}", state_dir, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextmanager
def attacker_site(certificate: Path, key: Path, target: str) -> Iterator[str]:
    """An HTTPS page on another port of 127.0.0.1 whose form posts to ``target`` on load.

    Another port is another *origin* but the same *site*, so the browser still attaches the
    victim's SameSite=Lax cookie: only the server-side CSRF check can stop this request.
    """
    page = (
        "<!doctype html><title>win a prize</title>"
        f'<form id="f" method="post" action="{target}">'
        '<input type="hidden" name="csrf_token" value="guessed"></form>'
        "<script>document.getElementById('f').submit()</script>"
    ).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.send_header("content-length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
