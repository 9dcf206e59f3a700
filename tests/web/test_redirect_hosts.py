"""The HTTPS redirect never reflects a Host it was not told about, and is never cached
(issue 9, item 15)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import httpx
import pytest

from sessionward import ConfigurationError
from sessionward.integrations.headers import HTTPSRedirectMiddleware, WSGIHTTPSRedirectMiddleware


async def _app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def _wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


@pytest.mark.anyio
async def test_a_host_outside_allowed_hosts_is_refused_not_reflected() -> None:
    app = HTTPSRedirectMiddleware(_app, allowed_hosts=["app.example.com", "www.example.com"])
    transport = httpx.ASGITransport(app=app, client=("203.0.113.5", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://app.example.com") as c:
        ok = await c.get("/a?b=1")
        assert ok.status_code == 308
        assert ok.headers["location"] == "https://app.example.com/a?b=1"
        assert ok.headers["cache-control"] == "no-store"
        upper = await c.get("/", headers={"host": "WWW.Example.com:80"})
        assert upper.headers["location"] == "https://WWW.Example.com/"
        evil = await c.get("/", headers={"host": "evil.example"})
        assert evil.status_code == 400
        assert "location" not in evil.headers
        assert "evil" not in evil.text
        assert evil.headers["cache-control"] == "no-store"


def test_the_wsgi_twin_refuses_too_and_never_caches() -> None:
    app = WSGIHTTPSRedirectMiddleware(_wsgi_app, allowed_hosts=["app.example.com"])
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://x") as c:
        assert c.get("/", headers={"host": "evil.example"}).status_code == 400
        ok = c.get("/", headers={"host": "app.example.com"})
        assert ok.status_code == 308
        assert ok.headers["location"] == "https://app.example.com/"
        assert ok.headers["cache-control"] == "no-store"


@pytest.mark.anyio
async def test_without_allowed_hosts_redirects_are_still_never_cached() -> None:
    app = HTTPSRedirectMiddleware(_app)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.5", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://app.test") as c:
        response = await c.get("/")
    assert response.status_code == 308
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("bad", ["app.example.com", [], ["https://app.example.com"], ["a:443"]])
def test_allowed_hosts_are_validated_at_start_up(bad: Any) -> None:
    with pytest.raises(ConfigurationError, match="allowed"):
        HTTPSRedirectMiddleware(_app, allowed_hosts=bad)
