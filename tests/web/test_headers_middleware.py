"""Security-headers and HTTPS-redirect middlewares, ASGI and WSGI."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from sessionward import ConfigurationError, SecurityHeaders
from sessionward.integrations.headers import (
    HTTPSRedirectMiddleware,
    SecurityHeadersMiddleware,
    WSGIHTTPSRedirectMiddleware,
    WSGISecurityHeadersMiddleware,
    csp_nonce,
)

pytestmark = pytest.mark.anyio


async def page(request: Request) -> Response:
    nonce = csp_nonce(request)
    return HTMLResponse(f'<script nonce="{nonce}">1</script>')


async def own_csp(request: Request) -> Response:
    return Response("x", headers={"content-security-policy": "default-src 'none'"})


async def echo(request: Request) -> Response:
    return JSONResponse({"scheme": request.url.scheme, "path": request.url.path})


inner = Starlette(
    routes=[Route("/", page), Route("/own", own_csp), Route("/echo", echo, methods=["GET", "POST"])]
)


def client(
    app: Any, base: str = "https://app.test", peer: str = "203.0.113.5"
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(peer, 1234)), base_url=base
    )


async def test_every_response_gets_the_headers_and_a_fresh_nonce() -> None:
    app = SecurityHeadersMiddleware(inner)
    async with client(app) as c:
        first, second = await c.get("/"), await c.get("/")
    for response in (first, second):
        csp = response.headers["content-security-policy"]
        nonce = re.search(r"'nonce-([^']+)'", csp)
        assert nonce is not None and f'nonce="{nonce.group(1)}"' in response.text
        assert response.headers["strict-transport-security"].startswith("max-age=63072000")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"]
        assert response.headers["cross-origin-opener-policy"] == "same-origin"
        assert response.headers["permissions-policy"]
    assert first.headers["content-security-policy"] != second.headers["content-security-policy"]


async def test_no_hsts_over_plain_http_and_app_headers_win() -> None:
    app = SecurityHeadersMiddleware(inner)
    async with client(app, "http://app.test") as c:
        response = await c.get("/")
        own = await c.get("/own")
    assert "strict-transport-security" not in response.headers
    assert own.headers.get_list("content-security-policy") == ["default-src 'none'"]


async def test_redirect_plain_http_with_308() -> None:
    app = HTTPSRedirectMiddleware(inner)
    async with client(app, "http://app.test") as c:
        response = await c.post("/echo?x=1")
        assert response.status_code == 308
        assert response.headers["location"] == "https://app.test/echo?x=1"
        spoofed = await c.get("/echo", headers={"x-forwarded-proto": "https"})
        assert spoofed.status_code == 308  # the peer is not a trusted proxy
        bad = await c.get("/echo", headers={"host": "bad host"})
        assert bad.status_code == 400


async def test_https_passes_through() -> None:
    app = HTTPSRedirectMiddleware(inner)
    async with client(app) as c:
        response = await c.get("/echo")
    assert response.json() == {"scheme": "https", "path": "/echo"}


async def test_trusted_proxy_may_say_https_and_the_app_sees_it() -> None:
    app = HTTPSRedirectMiddleware(inner, trusted_proxies=["10.0.0.0/8"], https_port=8443)
    async with client(app, "http://app.test", peer="10.1.1.1") as c:
        ok = await c.get("/echo", headers={"x-forwarded-proto": "https"})
        assert ok.json()["scheme"] == "https"
        rfc = await c.get("/echo", headers={"forwarded": "for=1.2.3.4;proto=https"})
        assert rfc.status_code == 308  # this proxy maintains X-Forwarded-Proto, not Forwarded
        plain = await c.get("/echo", headers={"x-forwarded-proto": "http"})
        assert plain.status_code == 308
        assert plain.headers["location"] == "https://app.test:8443/echo"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"trusted_proxies": "10.0.0.1"},
        {"trusted_proxies": ["nope"]},
        {"host": "https://x/"},
        {"https_port": 0},
        {"https_port": "443"},
    ],
)
def test_redirect_configuration_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        HTTPSRedirectMiddleware(inner, **kwargs)


def test_headers_configuration_errors() -> None:
    with pytest.raises(ConfigurationError):
        SecurityHeadersMiddleware(inner, headers={"csp": "x"})  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="SecurityHeadersMiddleware"):
        csp_nonce({})


def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"{environ['wsgi.url_scheme']} {csp_nonce(environ)}".encode()]


def test_wsgi_twins() -> None:
    app = WSGIHTTPSRedirectMiddleware(
        WSGISecurityHeadersMiddleware(wsgi_app, headers=SecurityHeaders()),
        trusted_proxies=["127.0.0.1"],
    )
    transport = httpx.WSGITransport(app=app, remote_addr="127.0.0.1")
    with httpx.Client(transport=transport, base_url="http://app.test") as c:
        redirected = c.get("/a?b=c")
        assert redirected.status_code == 308
        assert redirected.headers["location"] == "https://app.test/a?b=c"
        proxied = c.get("/", headers={"x-forwarded-proto": "https"})
    scheme, nonce = proxied.text.split()
    assert scheme == "https"
    assert f"'nonce-{nonce}'" in proxied.headers["content-security-policy"]
    assert proxied.headers["strict-transport-security"]  # the proxy said HTTPS
    untrusted = httpx.WSGITransport(app=app, remote_addr="198.51.100.1")
    with httpx.Client(transport=untrusted, base_url="http://app.test") as c:
        assert c.get("/", headers={"x-forwarded-proto": "https"}).status_code == 308
