"""Attacker input at the DBSC endpoints: each a clear 4xx and an audit event, never a 500."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from sessionward.core.events import Event, EventKind
from sessionward.testing import FakeClock

from .app import async_store, make_app
from .client import DbscClient, Key, sf

pytestmark = pytest.mark.anyio
REGISTER = "/_sessionward/dbsc/register"
REFRESH = "/_sessionward/dbsc/refresh"


@dataclass
class World:
    http: httpx.AsyncClient
    clock: FakeClock
    events: list[Event]

    async def login(self, user: str = "alice") -> tuple[DbscClient, str]:
        """A logged-in client that has not answered its registration offer yet."""
        client = DbscClient(self.http, self.clock, None)
        response = await client.request("POST", f"/login?user={user}")
        offer = response.headers["secure-session-registration"]
        challenge = re.search(r'challenge="([^"]*)"', offer)
        assert challenge is not None
        return client, challenge.group(1)

    async def bound(self, user: str = "alice") -> DbscClient:
        client = DbscClient(self.http, self.clock, Key())
        await client.request("POST", f"/login?user={user}")
        assert client.config is not None
        return client

    async def post(self, client: DbscClient, path: str, **headers: str | bytes) -> httpx.Response:
        return await self.http.post(path, headers={"cookie": client.cookie_header(), **headers})

    def last_reason(self) -> str | None:
        binding = [e for e in self.events if e.kind.value.startswith("binding.")]
        return binding[-1].reason if binding else None


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    clock, events = FakeClock(), []
    app, _ = make_app(async_store("memory", tmp_path), clock, events)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://app.test"
    ) as http:
        yield World(http, clock, events)


def b64json(value: Any) -> str:
    raw = json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], payload: dict[str, Any]) -> str:
    return f"{b64json(header)}.{b64json(payload)}."


KEY = Key()


def hs256(challenge: str, secret: bytes, with_jwk: bool = True) -> str:
    header: dict[str, Any] = {"typ": "dbsc+jwt"}
    if with_jwk:
        header["jwk"] = KEY.jwk
    return jwt.encode({"jti": challenge}, secret, algorithm="HS256", headers=header)


REGISTRATION_CASES: dict[str, tuple[Any, str]] = {
    "alg none": (
        lambda c: unsigned({"alg": "none", "typ": "dbsc+jwt", "jwk": KEY.jwk}, {"jti": c}),
        "alg",
    ),
    "HS256 with a random secret": (lambda c: hs256(c, b"s" * 32), "alg"),
    "HS256 keyed with the public JWK": (
        lambda c: hs256(c, KEY.jwk["x"].encode()),
        "alg",
    ),
    "wrong typ": (lambda c: KEY.proof(c, registration=True, typ="JWT"), "typ"),
    "no jwk": (lambda c: KEY.proof(c, registration=False), "jwk"),
    "private key material in the jwk": (
        lambda c: KEY.proof(c, registration=True, jwk={**KEY.jwk, "d": KEY.jwk["x"]}),
        "jwk",
    ),
    "another curve": (
        lambda c: KEY.proof(c, registration=True, jwk={**KEY.jwk, "crv": "P-384"}),
        "jwk",
    ),
    "a point off the curve": (
        lambda c: KEY.proof(c, registration=True, jwk={**KEY.jwk, "y": KEY.jwk["x"]}),
        "jwk",
    ),
    "jwk of an RSA type for ES256": (
        lambda c: KEY.proof(c, registration=True, jwk={"kty": "RSA", "n": "AQAB", "e": "AQAB"}),
        "jwk",
    ),
    "jwk that is not an object": (
        lambda c: KEY.proof(c, registration=True, jwk="not a key"),
        "jwk",
    ),
    "jwk with many members": (
        lambda c: KEY.proof(
            c, registration=True, jwk={**KEY.jwk, **{f"m{i}": "v" for i in range(20)}}
        ),
        "jwk",
    ),
    "oversized jwk": (
        lambda c: KEY.proof(c, registration=True, jwk={**KEY.jwk, "x5c": ["A" * 9000]}),
        "oversized",
    ),
    "signed by another key than its jwk": (
        lambda c: Key().proof(c, registration=True, jwk=KEY.jwk),
        "signature",
    ),
    "a made-up challenge": (lambda c: KEY.proof("g.1.x", registration=True), "challenge_invalid"),
    "not a JWT": (lambda c: "not.a.jwt", "malformed"),
}


@pytest.mark.parametrize("case", sorted(REGISTRATION_CASES))
async def test_bad_registration_proofs_get_400_and_an_event(world: World, case: str) -> None:
    make, reason = REGISTRATION_CASES[case]
    client, challenge = await world.login()
    response = await world.post(
        client, REGISTER, **{"secure-session-response": sf(make(challenge))}
    )
    assert response.status_code == 400, response.text
    assert world.last_reason() == reason
    # Nothing was bound: the session is served as before.
    assert (await client.request("GET", "/me")).json() == {"user": "alice"}


@pytest.mark.parametrize(
    "raw",
    [b'"unterminated', b"\xff\xfe\x00junk", b'"' + b"A" * 20000 + b'"', b'"a", "b"', b""],
)
async def test_garbage_response_headers_are_400(world: World, raw: bytes) -> None:
    client, _ = await world.login()
    response = await world.post(client, REGISTER, **{"secure-session-response": raw})
    assert response.status_code == 400
    assert world.last_reason() in ("malformed", "oversized")


async def test_registration_challenge_is_bound_to_its_session(world: World) -> None:
    alice, _ = await world.login("alice")
    _, bobs_challenge = await world.login("bob")
    proof = KEY.proof(bobs_challenge, registration=True)
    response = await world.post(alice, REGISTER, **{"secure-session-response": sf(proof)})
    assert response.status_code == 400
    assert world.last_reason() == "challenge_invalid"


async def test_stale_registration_challenge(world: World) -> None:
    client, challenge = await world.login()
    world.clock.advance(301)
    proof = KEY.proof(challenge, registration=True)
    response = await world.post(client, REGISTER, **{"secure-session-response": sf(proof)})
    assert response.status_code == 400
    assert world.last_reason() == "challenge_stale"


async def test_registration_needs_a_login_and_happens_once(world: World) -> None:
    anonymous = DbscClient(world.http, world.clock, None)
    response = await world.post(anonymous, REGISTER, **{"secure-session-response": '"x.y.z"'})
    assert response.status_code == 401
    client, challenge = await world.login()
    proof = sf(KEY.proof(challenge, registration=True))
    first = await world.post(client, REGISTER, **{"secure-session-response": proof})
    assert first.status_code == 200
    client.absorb(first)
    # The same proof again (a replay), or any second registration: refused.
    again = await world.post(client, REGISTER, **{"secure-session-response": proof})
    assert again.status_code == 409
    assert world.events[-1].kind is EventKind.BINDING_MISMATCH
    assert (await world.http.get(REGISTER)).status_code == 405


def challenge_of(response: httpx.Response) -> str:
    found = re.search(r'"([^"]*)"', response.headers["secure-session-challenge"])
    assert found is not None
    return found.group(1)


async def test_refresh_with_the_wrong_key_is_401(world: World) -> None:
    browser = await world.bound()
    assert browser.config is not None and browser.challenge is not None
    proof = Key().proof(browser.challenge, registration=False)
    response = await world.post(
        browser,
        REFRESH,
        **{
            "sec-secure-session-id": sf(browser.config["session_identifier"]),
            "secure-session-response": sf(proof),
        },
    )
    assert response.status_code == 401
    assert world.events[-1].kind is EventKind.BINDING_MISMATCH
    assert world.last_reason() == "signature"


async def test_refresh_ignores_a_key_in_the_proof_header(world: World) -> None:
    browser = await world.bound()
    assert browser.config is not None and browser.challenge is not None
    intruder = Key()
    proof = intruder.proof(browser.challenge, registration=True)  # brings its own jwk
    response = await world.post(
        browser,
        REFRESH,
        **{
            "sec-secure-session-id": sf(browser.config["session_identifier"]),
            "secure-session-response": sf(proof),
        },
    )
    assert response.status_code == 401


@pytest.mark.parametrize("alg", ["none", "HS256"])
async def test_refresh_refuses_none_and_hmac(world: World, alg: str) -> None:
    browser = await world.bound()
    assert browser.config is not None and browser.challenge is not None
    if alg == "none":
        proof = unsigned({"alg": "none", "typ": "dbsc+jwt"}, {"jti": browser.challenge})
    else:
        proof = hs256(browser.challenge, b"k" * 32, with_jwk=False)
    response = await world.post(
        browser,
        REFRESH,
        **{
            "sec-secure-session-id": sf(browser.config["session_identifier"]),
            "secure-session-response": sf(proof),
        },
    )
    assert response.status_code == 400
    assert world.last_reason() == "alg"


async def test_replayed_refresh_proof_gets_403_and_a_new_challenge(world: World) -> None:
    browser = await world.bound()
    assert browser.config is not None and browser.key is not None and browser.challenge
    headers = {
        "sec-secure-session-id": sf(browser.config["session_identifier"]),
        "secure-session-response": sf(browser.key.proof(browser.challenge, registration=False)),
    }
    assert (await world.post(browser, REFRESH, **headers)).status_code == 200
    replay = await world.post(browser, REFRESH, **headers)
    assert replay.status_code == 403
    assert world.last_reason() == "challenge_used"
    # An honest browser signs the new challenge and succeeds.
    headers["secure-session-response"] = sf(
        browser.key.proof(challenge_of(replay), registration=False)
    )
    assert (await world.post(browser, REFRESH, **headers)).status_code == 200


async def test_stale_refresh_challenge_gets_403_and_a_new_one(world: World) -> None:
    browser = await world.bound()
    assert browser.config is not None and browser.key is not None and browser.challenge
    world.clock.advance(301)
    response = await world.post(
        browser,
        REFRESH,
        **{
            "sec-secure-session-id": sf(browser.config["session_identifier"]),
            "secure-session-response": sf(browser.key.proof(browser.challenge, registration=False)),
        },
    )
    assert response.status_code == 403
    assert world.last_reason() == "challenge_stale"
    assert challenge_of(response) != browser.challenge


async def test_a_registration_challenge_cannot_refresh(world: World) -> None:
    client, challenge = await world.login()
    browser = DbscClient(world.http, world.clock, KEY, cookies=client.jar)
    proof = sf(KEY.proof(challenge, registration=True))
    registered = await world.post(browser, REGISTER, **{"secure-session-response": proof})
    browser.absorb(registered)
    handle = registered.json()["session_identifier"]
    fresh = await world.post(browser, REGISTER.replace("register", "refresh"))
    assert fresh.status_code == 400  # no session id
    response = await world.post(
        browser,
        REFRESH,
        **{
            "sec-secure-session-id": sf(handle),
            "secure-session-response": sf(KEY.proof(challenge, registration=False)),
        },
    )
    assert response.status_code == 400
    assert world.last_reason() == "challenge_invalid"


async def test_a_proof_for_another_session(world: World) -> None:
    alice = await world.bound("alice")
    bob = await world.bound("bob")
    assert bob.config is not None and alice.key is not None and alice.challenge
    response = await world.post(
        alice,
        REFRESH,
        **{
            "sec-secure-session-id": sf(bob.config["session_identifier"]),
            "secure-session-response": sf(alice.key.proof(alice.challenge, registration=False)),
        },
    )
    assert response.status_code == 400
    assert world.events[-1].kind is EventKind.BINDING_MISMATCH
    assert world.last_reason() == "wrong_session"


@pytest.mark.parametrize("session_id", [b"\xff\xfe", b'"short"', b'"' + b"x" * 9000 + b'"', b""])
async def test_malformed_session_ids_are_400(world: World, session_id: bytes) -> None:
    browser = await world.bound()
    response = await world.post(browser, REFRESH, **{"sec-secure-session-id": session_id})
    assert response.status_code == 400
    assert world.last_reason() == "malformed"


async def test_a_bound_cookie_from_another_session_does_not_pass_the_gate(world: World) -> None:
    alice = await world.bound("alice")
    bob = await world.bound("bob")
    bobs_bound = bob.cookie("__Host-bound")
    assert bobs_bound is not None
    alice.jar["__Host-bound"] = (bobs_bound, None)
    alice.key = None  # do not let the client repair it
    assert (await alice.request("GET", "/me")).json() == {"user": None}
    assert world.last_reason() == "cookie_invalid"
