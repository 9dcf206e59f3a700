"""The demo lets only sessionward's TrustedProxies believe forwarded headers (issue 9, 14-15).

uvicorn's own ``proxy_headers=True`` (its default) trusts ``X-Forwarded-Proto`` from loopback
before sessionward sees the request: any local process (or a local proxy passing the header
through) turned the plain-HTTP redirect listener into a plain-HTTP copy of the app.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from browser.servers import demo_server, free_port
from sessionward import ConfigurationError
from sessionward.demo import config


def _plain_http(port: int, request: bytes) -> bytes:
    """One request over plain HTTP; retried for a few seconds while the listener starts."""
    deadline = time.monotonic() + 15
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
                conn.sendall(request)
                chunks = []
                while chunk := conn.recv(65536):
                    chunks.append(chunk)
                return b"".join(chunks)
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_a_loopback_x_forwarded_proto_does_not_open_the_app_over_plain_http(
    tmp_path: Path,
) -> None:
    redirect = free_port()
    with demo_server(tmp_path, "--http-redirect-port", str(redirect), "--allowed-host", "app.test"):
        forged = _plain_http(
            redirect,
            b"GET /login HTTP/1.1\r\nHost: app.test\r\nX-Forwarded-Proto: https\r\n"
            b"X-Forwarded-For: 203.0.113.9\r\nConnection: close\r\n\r\n",
        )
        status, _, rest = forged.partition(b"\r\n")
        assert status.startswith(b"HTTP/1.1 308"), forged[:300]
        assert b"\r\nlocation: https://app.test:" in rest.lower()
        assert b"cache-control: no-store" in rest.lower()
        evil = _plain_http(
            redirect, b"GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
        )
        assert evil.startswith(b"HTTP/1.1 400")
        assert b"evil.example" not in evil


def test_demo_proxy_options_are_validated_and_parsed() -> None:
    loaded = config.load(
        ["--trusted-proxy", "10.0.0.0/8", "--trusted-proxy", "::1", "--allowed-host", "a.test"],
        env={},
    )
    assert [str(n) for n in loaded.proxies().networks] == ["10.0.0.0/8", "::1/128"]
    assert loaded.allowed_hosts == ("a.test",)
    from_env = config.load([], env={"SESSIONWARD_DEMO_TRUSTED_PROXIES": "10.1.0.0/16, 10.2.0.1"})
    assert len(from_env.proxies().networks) == 2
    assert config.load([], env={}).proxies().networks == ()
    with pytest.raises(ConfigurationError, match="not an IP address"):
        config.load(["--trusted-proxy", "proxy.internal"], env={})
    with pytest.raises(ConfigurationError, match="allowed host"):
        config.load(["--allowed-host", "https://a.test/"], env={})
