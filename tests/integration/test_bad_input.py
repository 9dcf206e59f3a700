"""Hostile cookie values: always an anonymous request, never a 500, nothing stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from .demo_client import COOKIE, Demo, login

pytestmark = pytest.mark.anyio

BAD_VALUES: list[bytes] = [
    b"",
    b"A" * 9000,
    "café-token".encode(),
    b"\xff\xfe\xfd\x80\x81invalid-utf8",
    b"A" * 42,
    b"A" * 44,
    b"' OR 1=1; --",
    b'"; DROP TABLE sessionward_sessions; --',
    b"%00%00",
    b"A" * 21 + b"\x00" + b"A" * 21,
    b"../../etc/passwd",
]


@pytest.mark.parametrize("value", BAD_VALUES, ids=lambda v: repr(v[:20]))
async def test_bad_cookie_values_are_anonymous(tmp_path: Path, value: bytes) -> None:
    demo = Demo(tmp_path)
    async with demo.client() as client:
        raw = COOKIE.encode() + b"=" + value
        response = await client.get("/", headers={"cookie": raw})
        assert response.status_code == 303
        assert "set-cookie" not in response.headers
        page = await client.get("/login", headers={"cookie": raw})
        assert page.status_code == 200
    assert demo.store.list_all() == []
    assert {"session.id.malformed", "session.id.unknown"} & set(demo.sink.kinds()) or not value


async def test_raw_non_utf8_header_bytes_through_asgi(tmp_path: Path) -> None:
    demo = Demo(tmp_path)
    sent: list[dict[str, object]] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"demo.test"),
            (b"cookie", b"__Host-session=\xc3\x28\xa0\xa1"),
            (b"user-agent", b"\xff\xfe"),
        ],
        "client": ("192.0.2.1", 1234),
        "server": ("demo.test", 443),
    }

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    await demo.app(scope, receive, send)
    assert sent[0]["status"] == 303
    assert "session.id.malformed" in demo.sink.kinds()


async def test_duplicated_session_cookies_are_refused(tmp_path: Path) -> None:
    demo = Demo(tmp_path)
    async with demo.client() as client:
        await login(client)
        token = client.cookies.get(COOKIE)
        client.cookies.clear()
        response = await client.get(
            "/", headers={"cookie": f"{COOKIE}={token}; {COOKIE}={'B' * 43}"}
        )
        assert response.status_code == 303
    assert "session.id.malformed" in demo.sink.kinds()


async def test_huge_and_garbage_form_input_on_login_is_a_clean_4xx(tmp_path: Path) -> None:
    demo = Demo(tmp_path)
    async with demo.client() as client:
        page = await client.get("/login")
        assert page.status_code == 200
        response = await client.post(
            "/login",
            content=b"username=\xff\xfe&password=" + b"x" * 100_000,
            headers={
                "content-type": "application/x-www-form-urlencoded",
                "origin": "https://demo.test",
                "sec-fetch-site": "same-origin",
            },
        )
        assert 400 <= response.status_code < 500
