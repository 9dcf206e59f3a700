"""The WSGI twin of the CSRF middleware: same decisions, no event loop."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from sessionward import ConfigurationError, MemoryStore, Session, SessionManager
from sessionward.integrations.csrf import STATE_KEY, WSGICSRFMiddleware, csrf_token
from sessionward.integrations.wsgi import ENVIRON_KEY, WSGISessionMiddleware
from sessionward.monitoring import MemorySink
from sessionward.testing import FakeClock

from .asgi_app import KEYS, ORIGIN, SAME_ORIGIN


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    session: Session = environ[ENVIRON_KEY]
    path = environ["PATH_INFO"]
    if path == "/login":
        session.login("alice")
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    answer = {
        "token": csrf_token(environ),
        "user": session.user_id,
        "form": {k: v[0] for k, v in parse_qs(body.decode("latin-1")).items()},
        "length": len(body),
    }
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(answer).encode()]


@pytest.fixture
def sink() -> MemorySink:
    return MemorySink()


@pytest.fixture
def client(clock: FakeClock, sink: MemorySink) -> Iterator[httpx.Client]:
    manager = SessionManager(MemoryStore(), clock=clock, sinks=[sink])
    wrapped = WSGISessionMiddleware(
        WSGICSRFMiddleware(app, manager=manager, keys=KEYS, exempt=["/hook"]), manager=manager
    )
    with httpx.Client(transport=httpx.WSGITransport(app=wrapped), base_url=ORIGIN) as c:
        yield c


def token(client: httpx.Client) -> str:
    value: str = client.get("/").json()["token"]
    return value


def test_same_origin_form_post_passes_and_the_app_reads_the_whole_body(
    client: httpx.Client,
) -> None:
    value = token(client)
    response = client.post(
        "/x", data={"csrf_token": value, "a": "b" * 200_000}, headers=SAME_ORIGIN
    )
    assert response.status_code == 200
    assert response.json()["form"]["csrf_token"] == value
    assert len(response.json()["form"]["a"]) == 200_000


def test_cross_site_is_rejected_with_event(client: httpx.Client, sink: MemorySink) -> None:
    value = token(client)
    response = client.post(
        "/x",
        headers={
            "sec-fetch-site": "cross-site",
            "x-csrf-token": value,
            "accept": "application/json",
        },
    )
    assert response.status_code == 403
    assert response.json()["reason"] == "fetch-metadata-cross-site"
    assert [e.reason for e in sink.events if e.kind == "csrf.rejected"] == [
        "fetch-metadata-cross-site"
    ]


@pytest.mark.parametrize("bad", [b"", b"\xff\xfe" * 43, "é".encode() * 43, b"A" * 50_000])
def test_malformed_tokens_are_403(client: httpx.Client, bad: bytes) -> None:
    token(client)
    response = client.post(
        "/x",
        content=b"csrf_token=" + bad,
        headers={**SAME_ORIGIN, "content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 403


def test_login_rotation_and_login_csrf(client: httpx.Client, clock: FakeClock) -> None:
    pre = token(client)
    attacker = httpx.Client(transport=client._transport, base_url=ORIGIN)
    with attacker:
        theirs = token(attacker)
    assert (
        client.post("/login", data={"csrf_token": theirs}, headers=SAME_ORIGIN).status_code == 403
    )
    after = client.post("/login", data={"csrf_token": pre}, headers=SAME_ORIGIN)
    assert after.status_code == 200 and after.json()["user"] == "alice"
    assert client.post("/x", headers={**SAME_ORIGIN, "x-csrf-token": pre}).status_code == 403
    fresh = after.json()["token"]
    assert client.post("/x", headers={**SAME_ORIGIN, "x-csrf-token": fresh}).status_code == 200


def test_exempt_route(client: httpx.Client) -> None:
    assert client.post("/hook", headers={"sec-fetch-site": "cross-site"}).status_code == 200
    assert client.post("/hooks", headers={"sec-fetch-site": "cross-site"}).status_code == 403


def test_body_is_replayed_when_the_token_comes_first() -> None:
    from sessionward.integrations._csrf_wsgi import _Replay

    rest = io.BytesIO(b"tail")
    stream = io.BufferedReader(_Replay(b"head-", rest, 4))
    assert stream.read() == b"head-tail"


def test_without_a_session_middleware_it_says_how_to_fix_it() -> None:
    manager = SessionManager(MemoryStore())
    bare = WSGICSRFMiddleware(app, manager=manager, keys=KEYS)
    with pytest.raises(ConfigurationError, match="inside the session middleware"):
        bare({"REQUEST_METHOD": "GET"}, lambda *a: None)


def test_wrong_manager_or_keys_fail_at_start_up() -> None:
    with pytest.raises(ConfigurationError):
        WSGICSRFMiddleware(app, manager=object(), keys=KEYS)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        WSGICSRFMiddleware(app, manager=SessionManager(MemoryStore()), keys="k" * 40)  # type: ignore[arg-type]


def test_csrf_token_without_middleware_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="CSRFMiddleware"):
        csrf_token({})
    assert STATE_KEY == "sessionward.csrf"


def test_wsgi_token_pages_are_not_cached(client: httpx.Client) -> None:
    response = client.get("/")
    assert response.headers.get_list("cache-control") == ["no-store"]
