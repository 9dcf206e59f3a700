"""Client addresses behind trusted proxies; forwarded headers from anyone else are ignored."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sessionward import AsyncMemoryStore, AsyncSessionManager, ClientInfo, TrustedProxies
from sessionward.core.session_tokens import new_token
from sessionward.errors import ConfigurationError
from sessionward.integrations.asgi import SessionMiddleware
from sessionward.integrations.wsgi import client_from_environ
from sessionward.monitoring import AnomalyRules, GuessingRule, MemorySink, Monitoring
from sessionward.testing import FakeClock

PROXIES = TrustedProxies(["10.0.0.0/8", "127.0.0.1", "2001:db8:ffff::/48"])
RFC_PROXIES = TrustedProxies(
    ["10.0.0.0/8", "127.0.0.1", "2001:db8:ffff::/48"], header="forwarded", proto_header="forwarded"
)


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    none = TrustedProxies()
    assert none.client_ip("10.0.0.1", x_forwarded_for_values=["1.2.3.4"]) == "10.0.0.1"


def test_forwarded_headers_from_an_untrusted_peer_are_ignored() -> None:
    assert PROXIES.client_ip("198.51.100.7", x_forwarded_for_values=["1.2.3.4"]) == "198.51.100.7"
    assert RFC_PROXIES.client_ip("198.51.100.7", forwarded=["for=1.2.3.4"]) == "198.51.100.7"


def test_x_forwarded_for_is_read_right_to_left_past_trusted_hops() -> None:
    # The client forged "6.6.6.6"; the first proxy appended the real address.
    header = ["6.6.6.6, 203.0.113.5, 10.1.1.1"]
    assert PROXIES.client_ip("10.2.2.2", x_forwarded_for_values=header) == "203.0.113.5"


def test_several_header_lines_are_one_list() -> None:
    lines = ["6.6.6.6", "203.0.113.5,10.1.1.1"]
    assert PROXIES.client_ip("127.0.0.1", x_forwarded_for_values=lines) == "203.0.113.5"


def test_rfc7239_forwarded_when_configured_handles_ports_and_ipv6() -> None:
    forwarded = ['for=6.6.6.6;proto=https, for="[2001:db8::1]:4711";by=10.0.0.1, for=10.9.9.9']
    assert (
        RFC_PROXIES.client_ip("10.0.0.2", forwarded=forwarded, x_forwarded_for_values=["9.9.9.9"])
        == "2001:db8::1"
    )
    assert RFC_PROXIES.client_ip("10.0.0.2", forwarded=["for=203.0.113.5:8080"]) == "203.0.113.5"


def test_unknown_or_junk_hop_stops_the_walk_at_the_last_trusted_address() -> None:
    assert RFC_PROXIES.client_ip("10.0.0.2", forwarded=["for=unknown, for=10.0.0.3"]) == "10.0.0.3"
    assert PROXIES.client_ip("10.0.0.2", x_forwarded_for_values=["<script>"]) == "10.0.0.2"


def test_all_hops_trusted_gives_the_leftmost() -> None:
    assert PROXIES.client_ip("10.0.0.2", x_forwarded_for_values=["10.0.0.9"]) == "10.0.0.9"


def test_ipv4_mapped_ipv6_peer_is_normalised() -> None:
    assert PROXIES.client_ip("::ffff:10.0.0.2", x_forwarded_for_values=["1.2.3.4"]) == "1.2.3.4"


def test_bad_proxy_configuration_is_refused_at_start_up() -> None:
    with pytest.raises(ConfigurationError, match="not an IP address"):
        TrustedProxies(["proxy.internal"])


def test_asgi_resolver_reads_scope_headers() -> None:
    scope = {
        "type": "http",
        "client": ("10.0.0.5", 5555),
        "headers": [
            (b"x-forwarded-for", b"203.0.113.5"),
            (b"user-agent", b"Firefox/130"),
        ],
    }
    client = PROXIES.asgi(scope)
    assert (client.ip, client.user_agent) == ("203.0.113.5", "Firefox/130")
    scope["client"] = ("198.51.100.1", 1)
    assert PROXIES.asgi(scope).ip == "198.51.100.1"


def test_wsgi_resolver_reads_environ() -> None:
    environ = {
        "REMOTE_ADDR": "10.0.0.5",
        "HTTP_FORWARDED": "for=203.0.113.5",
        "HTTP_X_FORWARDED_FOR": "9.9.9.9",
        "HTTP_USER_AGENT": "curl/8",
    }
    client = RFC_PROXIES.wsgi(environ)
    assert (client.ip, client.user_agent) == ("203.0.113.5", "curl/8")
    assert PROXIES.wsgi(environ).ip == "9.9.9.9"


def test_the_middlewares_record_the_resolved_address(clock: object) -> None:
    import asyncio

    import httpx

    from sessionward import AsyncMemoryStore, AsyncSessionManager, MemoryStore, SessionManager
    from sessionward.integrations.asgi import SessionMiddleware
    from sessionward.integrations.wsgi import WSGISessionMiddleware

    def wsgi_app(environ: dict[str, object], start_response: object) -> list[bytes]:
        session = environ["sessionward.session"]
        session.login("alice")  # type: ignore[attr-defined]
        start_response("200 OK", [])  # type: ignore[operator]
        return [b"ok"]

    sync = SessionManager(MemoryStore(), sinks=[])
    wrapped = WSGISessionMiddleware(wsgi_app, manager=sync, client_resolver=PROXIES.wsgi)
    environ = {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.5"}
    wrapped(environ, lambda status, headers, exc_info=None: None)
    assert [s.ip for s in sync.sessions_of("alice")] == ["203.0.113.5"]

    async def asgi_app(scope: dict[str, object], receive: object, send: object) -> None:
        await scope["session"].login("bob")  # type: ignore[attr-defined]
        await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b"ok"})  # type: ignore[operator]

    manager = AsyncSessionManager(AsyncMemoryStore(), sinks=[])
    app = SessionMiddleware(asgi_app, manager=manager, client_resolver=RFC_PROXIES.asgi)  # type: ignore[arg-type]

    async def call() -> list[str | None]:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 1))
        async with httpx.AsyncClient(transport=transport, base_url="https://t") as client:
            await client.get("/", headers={"forwarded": "for=203.0.113.77"})
        return [s.ip for s in await manager.sessions_of("bob")]

    assert asyncio.run(call()) == ["203.0.113.77"]


# -- IPv4-mapped IPv6 addresses (issue 9, item 3) ------------------------------------------------
# On a dual-stack socket IPv4 clients arrive as ::ffff:a.b.c.d. Kept as IPv6 they would all share
# one ::/64 key in the guessing guard: one guesser would block every IPv4 user.


def test_mapped_addresses_become_ipv4_whichever_way_client_info_is_made() -> None:
    assert ClientInfo(ip="::ffff:192.0.2.1").ip == "192.0.2.1"
    assert ClientInfo.from_raw("::FFFF:192.0.2.1", None).ip == "192.0.2.1"
    assert ClientInfo(ip="2001:db8::1").ip == "2001:db8::1"
    assert ClientInfo(ip="testclient").ip == "testclient"


async def _hello(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello"})


@pytest.mark.anyio
async def test_junk_cookies_from_one_mapped_ipv4_client_do_not_block_another() -> None:
    sink = MemorySink()
    manager = AsyncSessionManager(
        AsyncMemoryStore(),
        clock=FakeClock(),
        sinks=[sink],
        monitoring=Monitoring(AnomalyRules(guessing=GuessingRule())),
    )
    app = SessionMiddleware(_hello, manager=manager)

    def client(ip: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(ip, 4711))
        return httpx.AsyncClient(transport=transport, base_url="https://test")

    async with client("::ffff:192.0.2.1") as guesser:
        statuses = []
        for _ in range(21):
            junk = {"cookie": f"__Host-session={new_token()}"}
            statuses.append((await guesser.get("/", headers=junk)).status_code)
    assert statuses == [200] * 20 + [429]  # the default rule blocks after 20 failures
    async with client("::ffff:192.0.2.2") as neighbour:
        junk = {"cookie": f"__Host-session={new_token()}"}
        assert (await neighbour.get("/", headers=junk)).status_code == 200
    assert {e.ip for e in sink.events} == {"192.0.2.1", "192.0.2.2"}


def test_wsgi_remote_addr_and_proxy_resolvers_are_normalised_too() -> None:
    assert client_from_environ({"REMOTE_ADDR": "::ffff:198.51.100.8"}).ip == "198.51.100.8"
    assert PROXIES.wsgi({"REMOTE_ADDR": "::ffff:198.51.100.7"}).ip == "198.51.100.7"
    scope = {"client": ("::ffff:198.51.100.7", 1), "headers": []}
    assert PROXIES.asgi(scope).ip == "198.51.100.7"
