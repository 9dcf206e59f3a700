"""Hostile bytes anywhere a CSRF decision reads from never make a 500: only 200 or 403."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessionward.monitoring import MemorySink
from sessionward.testing import FakeClock

from .asgi_app import build

APP = build(FakeClock(), MemorySink())
header_value = st.binary(max_size=120)


async def call(headers: list[tuple[bytes, bytes]], body: bytes, method: str) -> int:
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": "/action",
        "raw_path": b"/action",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("203.0.113.1", 4000),
        "server": ("app.test", 443),
    }
    chunks = [body[:7], body[7:]]
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        if chunks:
            chunk = chunks.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await APP(scope, receive, send)
    return statuses[0]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    origin=header_value,
    site=st.one_of(st.just(b"same-origin"), header_value),
    referer=header_value,
    token=header_value,
    cookie=header_value,
    content_type=st.sampled_from(
        [
            b"application/x-www-form-urlencoded",
            b"multipart/form-data; boundary=b",
            b"text/plain",
            b"multipart/form-data; boundary=\xff",
            b"",
        ]
    ),
    body=st.binary(max_size=300),
    method=st.sampled_from(["POST", "PUT", "PATCH", "DELETE"]),
)
def test_any_bytes_give_200_or_403(
    origin: bytes,
    site: bytes,
    referer: bytes,
    token: bytes,
    cookie: bytes,
    content_type: bytes,
    body: bytes,
    method: str,
) -> None:
    headers = [
        (b"host", b"app.test"),
        (b"origin", origin),
        (b"sec-fetch-site", site),
        (b"referer", referer),
        (b"cookie", cookie),
        (b"content-type", content_type),
    ]
    if token:
        headers.append((b"x-csrf-token", token))
    assert asyncio.run(call(headers, b"csrf_token=" + body, method)) in (200, 403)
