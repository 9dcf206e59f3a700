"""CSRF middleware for ASGI, end to end through a Starlette app and a real session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from sessionward import SecretKeyRing
from sessionward.monitoring import MemorySink
from sessionward.testing import FakeClock, events

from .asgi_app import ORIGIN, SAME_ORIGIN, build

pytestmark = pytest.mark.anyio


@pytest.fixture
def sink() -> MemorySink:
    return MemorySink()


@pytest.fixture
async def client(clock: FakeClock, sink: MemorySink) -> AsyncIterator[httpx.AsyncClient]:
    app = build(clock, sink)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ORIGIN) as c:
        yield c


async def token(client: httpx.AsyncClient) -> str:
    response = await client.get("/form")
    assert response.status_code == 200
    value: str = response.json()["token"]
    return value


def rejections(sink: MemorySink) -> list[str | None]:
    return [e.reason for e in events(sink, "csrf.rejected")]


async def test_same_origin_post_with_token_passes_and_body_reaches_the_app(
    client: httpx.AsyncClient,
) -> None:
    value = await token(client)
    response = await client.post(
        "/action", data={"csrf_token": value, "x": "1"}, headers=SAME_ORIGIN
    )
    assert response.status_code == 200
    assert response.json()["form"] == {"csrf_token": value, "x": "1"}


async def test_token_in_header_for_scripts(client: httpx.AsyncClient) -> None:
    value = await token(client)
    for method in ("PUT", "PATCH", "DELETE"):
        response = await client.request(
            method, "/action", headers={**SAME_ORIGIN, "x-csrf-token": value}
        )
        assert response.status_code == 200, method


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_cross_site_requests_are_rejected_with_an_audit_event(
    client: httpx.AsyncClient, sink: MemorySink, method: str
) -> None:
    value = await token(client)
    response = await client.request(
        method,
        "/action",
        headers={
            "sec-fetch-site": "cross-site",
            "origin": "https://evil.test",
            "x-csrf-token": value,
        },
    )
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    assert rejections(sink) == ["fetch-metadata-cross-site"]
    [event] = events(sink, "csrf.rejected")
    assert event.detail["method"] == method and event.detail["origin"] == "https://evil.test"


async def test_json_clients_get_a_json_403(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/action", headers={"origin": "https://evil.test", "accept": "application/json"}
    )
    assert response.status_code == 403
    assert response.json() == {
        "error": "csrf_rejected",
        "reason": "origin-mismatch",
        "message": "The request's Origin is not this site.",
    }


async def test_origin_and_referer_fallbacks(client: httpx.AsyncClient, sink: MemorySink) -> None:
    value = await token(client)
    ok = {"x-csrf-token": value}
    assert (await client.post("/action", headers={**ok, "origin": ORIGIN})).status_code == 200
    assert (
        await client.post("/action", headers={**ok, "referer": ORIGIN + "/form"})
    ).status_code == 200
    assert (await client.post("/action", headers=ok)).status_code == 403
    assert (
        await client.post("/action", headers={**ok, "referer": "https://evil.test/"})
    ).status_code == 403
    assert rejections(sink) == ["referer-missing", "referer-mismatch"]


async def test_plain_http_without_origin_is_rejected(clock: FakeClock, sink: MemorySink) -> None:
    app = build(clock, sink)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app.test") as c:
        response = await c.post("/hook")
        assert response.status_code == 200  # exempt
        response = await c.post("/action", headers={"referer": "http://app.test/"})
    assert response.status_code == 403
    assert rejections(sink) == ["origin-missing"]


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "x",
        "A" * 85,
        "A" * 86,
        "A" * 100_000,
        "é" * 86,
        "\u202e" * 86,
        "%FF%FE" * 43,
        "%00" * 86,
    ],
)
async def test_malformed_form_tokens_are_403_never_500(
    client: httpx.AsyncClient, bad: str, sink: MemorySink
) -> None:
    await token(client)
    response = await client.post(
        "/action",
        content=b"csrf_token=" + bad.encode("utf-8"),
        headers={**SAME_ORIGIN, "content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 403
    assert rejections(sink)[0] in ("token-malformed", "token-missing", "token-invalid")


@pytest.mark.parametrize(
    "raw", [b"", b"\xff\xfe\xfd" * 30, b"A" * 86 + b"\x80", b"\x00" * 86, b"A" * 8000]
)
async def test_malformed_header_tokens_including_non_utf8_bytes_are_403(
    client: httpx.AsyncClient, raw: bytes
) -> None:
    await token(client)
    request = client.build_request("POST", "/action", headers=SAME_ORIGIN)
    request.headers["x-csrf-token"] = raw.decode("latin-1")
    response = await client.send(request)
    assert response.status_code == 403


async def test_non_utf8_origin_and_fetch_metadata_headers_are_403_not_500(
    client: httpx.AsyncClient,
) -> None:
    for name in ("origin", "sec-fetch-site", "referer", "host"):
        request = client.build_request("POST", "/action")
        request.headers[name] = "\xff\xfe\x80".encode("latin-1").decode("latin-1")
        response = await client.send(request)
        assert response.status_code == 403, name


async def test_missing_token_and_token_from_another_session(
    clock: FakeClock, sink: MemorySink
) -> None:
    app = build(clock, sink)
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url=ORIGIN) as victim,
        httpx.AsyncClient(transport=transport, base_url=ORIGIN) as attacker,
    ):
        await victim.post("/login", headers={**SAME_ORIGIN, "x-csrf-token": await token(victim)})
        await attacker.post(
            "/login", headers={**SAME_ORIGIN, "x-csrf-token": await token(attacker)}
        )
        theirs = await token(attacker)
        response = await victim.post("/action", data={"csrf_token": theirs}, headers=SAME_ORIGIN)
        assert response.status_code == 403
        response = await victim.post("/action", data={"other": "x"}, headers=SAME_ORIGIN)
        assert response.status_code == 403
        response = await victim.post("/action", json={"a": 1}, headers=SAME_ORIGIN)
        assert response.status_code == 403
    assert rejections(sink) == ["token-invalid", "token-missing", "token-missing"]


async def test_login_rotates_the_token(client: httpx.AsyncClient, sink: MemorySink) -> None:
    before = await token(client)
    response = await client.post("/login", data={"csrf_token": before}, headers=SAME_ORIGIN)
    assert response.status_code == 200
    after = response.json()["token"]
    ok = await client.post("/action", data={"csrf_token": after}, headers=SAME_ORIGIN)
    assert ok.status_code == 200
    stale = await client.post("/action", data={"csrf_token": before}, headers=SAME_ORIGIN)
    assert stale.status_code == 403
    assert rejections(sink) == ["token-invalid"]


async def test_login_csrf_fails_without_the_victims_pre_session_cookie(
    clock: FakeClock, sink: MemorySink
) -> None:
    app = build(clock, sink)
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url=ORIGIN) as victim,
        httpx.AsyncClient(transport=transport, base_url=ORIGIN) as attacker,
    ):
        form = await victim.get("/form")
        assert "__Host-csrf" in form.headers["set-cookie"]
        assert "SameSite=Strict" in form.headers["set-cookie"]
        assert "HttpOnly" in form.headers["set-cookie"]
        attackers_token = await token(attacker)
        # Even a request that looks same-origin (a header-stripping proxy, an old browser)
        # fails: the token is bound to the attacker's own pre-session nonce.
        response = await victim.post(
            "/login", data={"csrf_token": attackers_token}, headers=SAME_ORIGIN
        )
        assert response.status_code == 403
        fresh = httpx.AsyncClient(transport=transport, base_url=ORIGIN)
        async with fresh:
            response = await fresh.post(
                "/login", data={"csrf_token": attackers_token}, headers=SAME_ORIGIN
            )
            assert response.status_code == 403
        assert (await victim.get("/form")).json()["user"] is None
    assert rejections(sink) == ["token-invalid", "no-session-or-presession"]


async def test_pre_session_cookie_expires(clock: FakeClock, client: httpx.AsyncClient) -> None:
    value = await token(client)
    clock.advance(2 * 60 * 60 + 1)
    response = await client.post("/login", data={"csrf_token": value}, headers=SAME_ORIGIN)
    assert response.status_code == 403


async def test_pre_session_tokens_stop_working_after_login(client: httpx.AsyncClient) -> None:
    pre = await token(client)
    await client.post("/login", data={"csrf_token": pre}, headers=SAME_ORIGIN)
    response = await client.post("/action", data={"csrf_token": pre}, headers=SAME_ORIGIN)
    assert response.status_code == 403


async def test_exemptions_are_exact_paths(client: httpx.AsyncClient) -> None:
    hostile = {"sec-fetch-site": "cross-site", "origin": "https://evil.test"}
    assert (await client.post("/hook", headers=hostile)).status_code == 200
    assert (await client.post("/hook/", headers=hostile)).status_code == 403
    assert (await client.post("/hook2", headers=hostile)).status_code == 403


async def test_safe_methods_pass_without_token(client: httpx.AsyncClient) -> None:
    hostile = {"sec-fetch-site": "cross-site", "origin": "https://evil.test"}
    assert (await client.get("/form", headers=hostile)).status_code == 200
    assert (await client.head("/form", headers=hostile)).status_code == 200


async def test_multipart_upload_with_token_first_streams_through(
    client: httpx.AsyncClient,
) -> None:
    value = await token(client)
    response = await client.post(
        "/action",
        data={"csrf_token": value},
        files={"upload": ("big.bin", b"x" * (3 * 1024 * 1024), "application/octet-stream")},
        headers=SAME_ORIGIN,
    )
    assert response.status_code == 200
    assert response.json()["form"] == {"csrf_token": value, "upload": "big.bin"}


async def test_a_body_larger_than_the_limit_without_token_is_rejected(
    client: httpx.AsyncClient,
) -> None:
    await token(client)
    response = await client.post(
        "/action",
        content=b"a=" + b"x" * (2 * 1024 * 1024),
        headers={**SAME_ORIGIN, "content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 403


async def test_every_response_masks_the_token_differently(client: httpx.AsyncClient) -> None:
    assert len({await token(client) for _ in range(5)}) == 5


async def test_key_rotation_keeps_open_forms_valid(clock: FakeClock, sink: MemorySink) -> None:
    old = SecretKeyRing(["old-secret-" * 3])
    rotated = SecretKeyRing(["old-secret-" * 3, "new-secret-" * 3])
    for keys in (old, rotated):
        app = build(clock, sink, keys)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ORIGIN) as c:
            value = await token(c)
            assert (
                await c.post("/raw", data={"csrf_token": value}, headers=SAME_ORIGIN)
            ).status_code == 200


async def test_a_page_carrying_a_token_is_never_cached(client: httpx.AsyncClient) -> None:
    plain = await client.get("/cached")
    assert plain.headers["cache-control"] == "public, max-age=600"
    assert "set-cookie" not in plain.headers
    with_token = await client.get("/cached?token=1")
    assert with_token.headers.get_list("cache-control") == ["no-store"]
    assert "__Host-csrf=" in with_token.headers["set-cookie"]
