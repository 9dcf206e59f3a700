"""Cross-site WebSocket hijacking: a handshake from another origin's page is refused."""

from __future__ import annotations

from typing import Any

import pytest

from sessionward.monitoring import MemorySink
from sessionward.testing import FakeClock

from .asgi_app import build

pytestmark = pytest.mark.anyio


async def handshake(sink: MemorySink, headers: list[tuple[bytes, bytes]]) -> list[dict[str, Any]]:
    app = build(FakeClock(), sink)
    scope: dict[str, Any] = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "wss",
        "path": "/ws",
        "raw_path": b"/ws",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"app.test"), *headers],
        "client": ("203.0.113.1", 4000),
        "server": ("app.test", 443),
        "subprotocols": [],
    }
    incoming = [{"type": "websocket.connect"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


@pytest.mark.parametrize("headers", [[(b"origin", b"https://app.test")], []])
async def test_same_origin_and_non_browser_handshakes_are_accepted(
    headers: list[tuple[bytes, bytes]],
) -> None:
    sent = await handshake(MemorySink(), headers)
    assert sent[0]["type"] == "websocket.accept"
    assert sent[1]["text"] == "user=None"


@pytest.mark.parametrize(
    "origin", [b"https://evil.test", b"null", b"https://app.test:8443", b"\xff\xfe", b""]
)
async def test_cross_origin_handshakes_are_refused_with_an_event(origin: bytes) -> None:
    sink = MemorySink()
    sent = await handshake(sink, [(b"origin", origin)])
    assert sent == [{"type": "websocket.close", "code": 1008}]
    events = [e for e in sink.events if e.kind == "csrf.rejected"]
    assert [(e.reason, e.detail["method"]) for e in events] == [("origin-mismatch", "WEBSOCKET")]
