"""Which forwarded headers are believed: the configured ones, as the nearest proxy wrote them.

Issue 9, items 4 and 5. A proxy that maintains only ``X-Forwarded-For``/``X-Forwarded-Proto``
passes a client's own ``Forwarded`` header through untouched, so "Forwarded if present" let any
client pick its address and scheme. And when the proxy appends its own line after the client's,
only the last value is the proxy's word.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import httpx
import pytest

from sessionward import ConfigurationError, TrustedProxies
from sessionward.core.transport import forwarded_scheme
from sessionward.integrations.headers import HTTPSRedirectMiddleware, WSGIHTTPSRedirectMiddleware

NGINX = TrustedProxies(["10.0.0.0/8"])  # X-Forwarded-For and X-Forwarded-Proto, the defaults
RFC7239 = TrustedProxies(["10.0.0.0/8"], header="forwarded", proto_header="forwarded")


def test_a_client_sent_forwarded_header_does_not_beat_the_proxys_x_forwarded_for() -> None:
    ip = NGINX.client_ip(
        "10.0.0.2", forwarded=["for=6.6.6.6"], x_forwarded_for_values=["203.0.113.5"]
    )
    assert ip == "203.0.113.5"


def test_with_forwarded_configured_x_forwarded_for_is_ignored() -> None:
    ip = RFC7239.client_ip(
        "10.0.0.2", forwarded=["for=203.0.113.5"], x_forwarded_for_values=["6.6.6.6"]
    )
    assert ip == "203.0.113.5"


def test_the_resolvers_read_only_the_configured_header() -> None:
    headers = [(b"forwarded", b"for=6.6.6.6"), (b"x-forwarded-for", b"203.0.113.5")]
    scope = {"client": ("10.0.0.2", 1), "headers": headers}
    assert NGINX.asgi(scope).ip == "203.0.113.5"
    assert RFC7239.asgi(scope).ip == "6.6.6.6"
    environ = {
        "REMOTE_ADDR": "10.0.0.2",
        "HTTP_FORWARDED": "for=6.6.6.6",
        "HTTP_X_FORWARDED_FOR": "203.0.113.5",
    }
    assert NGINX.wsgi(environ).ip == "203.0.113.5"
    assert RFC7239.wsgi(environ).ip == "6.6.6.6"


def test_a_client_sent_forwarded_proto_does_not_beat_x_forwarded_proto() -> None:
    claimed = forwarded_scheme(
        "http", peer="10.0.0.2", proxies=NGINX, x_forwarded_proto="http", forwarded="proto=https"
    )
    assert claimed == "http"
    rfc = forwarded_scheme(
        "http", peer="10.0.0.2", proxies=RFC7239, x_forwarded_proto="https", forwarded="proto=http"
    )
    assert rfc == "http"


def test_the_last_value_of_several_lines_is_the_nearest_hops() -> None:
    assert (
        forwarded_scheme(
            "http",
            peer="10.0.0.2",
            proxies=NGINX,
            x_forwarded_proto=["https", "http"],
            forwarded=None,
        )
        == "http"
    )
    assert (
        forwarded_scheme(
            "http",
            peer="10.0.0.2",
            proxies=RFC7239,
            x_forwarded_proto=None,
            forwarded=["for=1.2.3.4;proto=https", "for=5.6.7.8"],
        )
        == "http"
    )  # the nearest hop said nothing about proto: the connection's scheme stands


@pytest.mark.parametrize(
    "kwargs", [{"header": "x-real-ip"}, {"proto_header": "X-Forwarded-Host"}, {"header": None}]
)
def test_header_sources_are_validated_at_start_up(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="forwarded"):
        TrustedProxies(["10.0.0.1"], **kwargs)


async def _echo(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(scope["scheme"]).encode()})


@pytest.mark.anyio
async def test_asgi_redirect_believes_the_last_x_forwarded_proto_line() -> None:
    app = HTTPSRedirectMiddleware(_echo, trusted_proxies=NGINX, host="app.test")
    transport = httpx.ASGITransport(app=app, client=("10.0.0.2", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://app.test") as client:
        # The client sent "https"; the proxy appended the truth on its own line.
        forged = [("x-forwarded-proto", "https"), ("x-forwarded-proto", "http")]
        assert (await client.get("/", headers=forged)).status_code == 308
        real = [("x-forwarded-proto", "http"), ("x-forwarded-proto", "https")]
        assert (await client.get("/", headers=real)).text == "https"
        rfc = {"forwarded": "proto=https", "x-forwarded-proto": "http"}
        assert (await client.get("/", headers=rfc)).status_code == 308


def _wsgi_echo(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(environ["wsgi.url_scheme"]).encode()]


def test_wsgi_redirect_follows_the_same_rule() -> None:
    app = WSGIHTTPSRedirectMiddleware(_wsgi_echo, trusted_proxies=NGINX, host="app.test")
    transport = httpx.WSGITransport(app=app, remote_addr="10.0.0.2")
    with httpx.Client(transport=transport, base_url="http://app.test") as client:
        assert client.get("/", headers={"x-forwarded-proto": "https, http"}).status_code == 308
        assert client.get("/", headers={"x-forwarded-proto": "http, https"}).text == "https"
        rfc = {"forwarded": "proto=https", "x-forwarded-proto": "http"}
        assert client.get("/", headers=rfc).status_code == 308
