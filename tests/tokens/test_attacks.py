"""Attacks on access and refresh tokens that must fail: each a named test.

Every hostile token is sent to a real ASGI endpoint behind ``BearerMiddleware`` and must come
back 401 with an RFC 6750 ``WWW-Authenticate`` challenge (never a 500), and leave a
``token.rejected`` audit event saying why.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import urllib.request
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sessionward.integrations.bearer import SCOPE_KEY, BearerMiddleware
from sessionward.tokens import InvalidGrant, SigningKey, TokenPair

from .helpers import CLIENT, AsyncWorld, b64, b64json, forge, good_claims

pytestmark = pytest.mark.anyio

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


class API:
    def __init__(self) -> None:
        self.world = AsyncWorld()
        self.key = self.world.keys.signing_key

        async def me(request: Request) -> JSONResponse:
            return JSONResponse({"sub": request.scope[SCOPE_KEY].subject})

        protected = BearerMiddleware(Starlette(routes=[Route("/me", me)]), tokens=self.world.tokens)
        self.app = protected

    async def login(self) -> TokenPair:
        return await self.world.tokens.login("alice", CLIENT)

    async def get(self, token: str | None, *, raw: str | None = None) -> httpx.Response:
        headers: dict[bytes, bytes] = {}
        if raw is not None:
            headers[b"authorization"] = raw.encode("utf-8")
        elif token is not None:
            headers[b"authorization"] = f"Bearer {token}".encode()
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="https://api.test") as client:
            return await client.get("/me", headers=headers)

    async def refused(self, token: str, *, error: str = "invalid_token") -> str:
        """Send ``token``; assert a proper 401; return the audit reason."""
        before = len(self.world.sink.events)
        response = await self.get(token)
        assert response.status_code == 401, response.text
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith('Bearer realm="api"')
        assert f'error="{error}"' in challenge
        assert response.json()["error"] == error
        rejected = [e for e in self.world.sink.events[before:] if e.kind == "token.rejected"]
        assert rejected, "no audit event for a refused token"
        return rejected[-1].reason or ""

    def claims(self, pair: TokenPair, **changes: Any) -> dict[str, Any]:
        return good_claims(self.world.clock, sid=pair.session, **changes)

    def header(self, **changes: Any) -> dict[str, Any]:
        header = {"alg": self.key.algorithm, "typ": "at+jwt", "kid": self.key.kid}
        header.update(changes)
        return {k: v for k, v in header.items() if v is not None}


@pytest.fixture
def api() -> API:
    return API()


async def test_a_valid_token_passes_which_makes_the_refusals_meaningful(api: API) -> None:
    pair = await api.login()
    assert (await api.get(pair.access_token)).json() == {"sub": "alice"}
    forged = forge(api.header(), api.claims(pair), key=api.key)
    assert (await api.get(forged)).status_code == 200


async def test_missing_or_malformed_authorization_header(api: API) -> None:
    response = await api.get(None)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="api"'
    response = await api.get(None, raw="Basic YWxpY2U6cHc=")
    assert response.status_code == 401
    response = await api.get(None, raw="Bearer a b c")
    assert response.status_code == 401
    assert 'error="invalid_request"' in response.headers["www-authenticate"]


@pytest.mark.parametrize("spelling", ["none", "None", "NONE", "nOnE", "none ", " none"])
async def test_alg_none_in_every_spelling(api: API, spelling: str) -> None:
    pair = await api.login()
    unsigned = forge(api.header(alg=spelling), api.claims(pair))
    assert await api.refused(unsigned) == "shape"  # "header.payload." has no signature
    with_sig = forge(api.header(alg=spelling), api.claims(pair), signature=b"\x00" * 64)
    assert await api.refused(with_sig) == "alg"
    # The genuine signature of the real key does not rescue a header that says none.
    real = forge(api.header(), api.claims(pair), key=api.key)
    swapped = b64json(api.header(alg=spelling)) + real[real.index(".") :]
    assert await api.refused(swapped) == "alg"


async def test_hs256_signed_with_the_public_key_key_confusion(api: API) -> None:
    pair = await api.login()
    public = api.key.verifying_material
    for secret in (
        public.public_bytes(  # type: ignore[union-attr]
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        public.public_bytes(  # type: ignore[union-attr]
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        ),
        json.dumps(api.key.public_jwk()).encode(),
    ):
        signing_input = f"{b64json(api.header(alg='HS256'))}.{b64json(api.claims(pair))}"
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        assert await api.refused(f"{signing_input}.{b64(mac)}") == "alg"


async def test_unknown_kid(api: API) -> None:
    pair = await api.login()
    stranger = SigningKey.generate("ES256", kid="attacker")
    token = forge(api.header(kid="attacker"), api.claims(pair), key=stranger)
    assert await api.refused(token) == "kid"


@pytest.mark.parametrize(
    "kid",
    ["../../../../dev/null", "' OR '1'='1", "k1\x00", "x" * 5000, 7, None, ["k-es"], {"$ne": 1}],
)
async def test_injected_kid(api: API, kid: Any) -> None:
    pair = await api.login()
    header = api.header()
    header["kid"] = kid
    token = forge(header, api.claims(pair), key=api.key)
    reason = await api.refused(token)
    assert reason in ("kid", "size")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    attempts: list[str] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(repr(args))
        raise AssertionError("a token made the verifier reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    return attempts


@pytest.mark.parametrize("name", ["jku", "x5u", "jwk", "x5c", "crit"])
async def test_jku_x5u_and_embedded_jwk_headers_are_never_used_or_fetched(
    api: API, no_network: list[str], name: str
) -> None:
    pair = await api.login()
    attacker = SigningKey.generate(api.key.algorithm, kid=api.key.kid)  # same kid, their key
    values: dict[str, Any] = {
        "jku": "https://attacker.example/jwks.json",
        "x5u": "https://attacker.example/cert.pem",
        "jwk": attacker.public_jwk(),
        "x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"],
        "crit": ["exp"],
    }
    token = forge(api.header(**{name: values[name]}), api.claims(pair), key=attacker)
    assert await api.refused(token) == "header"
    # Even signed with the genuine key, a token carrying the header is refused outright.
    genuine = forge(api.header(**{name: values[name]}), api.claims(pair), key=api.key)
    assert await api.refused(genuine) == "header"
    assert no_network == []


async def test_expired(api: API) -> None:
    pair = await api.login()
    api.world.clock.advance(300 + 10)  # ttl + leeway
    assert await api.refused(pair.access_token) == "expired"


async def test_expiry_leeway_is_small_and_bounded(api: API) -> None:
    pair = await api.login()
    api.world.clock.advance(300 + 9)
    assert (await api.get(pair.access_token)).status_code == 200


async def test_not_yet_valid(api: API) -> None:
    pair = await api.login()
    now = int(api.world.clock.now())
    token = forge(api.header(), api.claims(pair, nbf=now + 60), key=api.key)
    assert await api.refused(token) == "not_yet_valid"
    future = forge(api.header(), api.claims(pair, iat=now + 60), key=api.key)
    assert await api.refused(future) == "not_yet_valid"


async def test_wrong_audience(api: API) -> None:
    pair = await api.login()
    for aud in ("https://other.example/", ["https://api.example.test/v1"], ""):
        token = forge(api.header(), api.claims(pair, aud=aud), key=api.key)
        assert await api.refused(token) in ("aud", "claim:aud")


async def test_wrong_issuer(api: API) -> None:
    pair = await api.login()
    token = forge(api.header(), api.claims(pair, iss="https://evil.example"), key=api.key)
    assert await api.refused(token) == "iss"


@pytest.mark.parametrize("claim", ["iss", "aud", "sub", "sid", "iat", "nbf", "exp", "jti"])
async def test_missing_claims(api: API, claim: str) -> None:
    pair = await api.login()
    claims = api.claims(pair)
    del claims[claim]
    token = forge(api.header(), claims, key=api.key)
    assert await api.refused(token) == f"missing:{claim}"


@pytest.mark.parametrize(
    ("claim", "value"), [("exp", "9999999999"), ("exp", True), ("iat", 1.5), ("sub", 42)]
)
async def test_claims_of_the_wrong_type(api: API, claim: str, value: Any) -> None:
    pair = await api.login()
    token = forge(api.header(), api.claims(pair, **{claim: value}), key=api.key)
    assert await api.refused(token) == f"claim:{claim}"


@pytest.mark.parametrize("typ", ["JWT", "jwt", "application/jwt", None, "at+jwt+evil"])
async def test_wrong_or_missing_typ(api: API, typ: str | None) -> None:
    pair = await api.login()
    header = api.header()
    header.pop("typ")
    if typ is not None:
        header["typ"] = typ
    token = forge(header, api.claims(pair), key=api.key)
    assert await api.refused(token) == "typ"


async def test_duplicate_json_members_are_refused(api: API) -> None:
    pair = await api.login()
    claims = json.dumps(api.claims(pair))[:-1] + ', "sub": "admin"}'
    payload = b64(claims.encode())
    token = forge(api.header(), payload, key=api.key)
    assert await api.refused(token) == "json"


async def test_tampered_payload(api: API) -> None:
    pair = await api.login()
    head, _payload, sig = pair.access_token.split(".")
    evil = b64json(api.claims(pair, sub="admin"))
    assert await api.refused(f"{head}.{evil}.{sig}") == "signature"


async def test_tampered_signature(api: API) -> None:
    pair = await api.login()
    head, payload, sig = pair.access_token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(sig + "=="))
    for position in (0, len(raw) // 2, len(raw) - 1):
        flipped = bytearray(raw)
        flipped[position] ^= 0x01
        assert await api.refused(f"{head}.{payload}.{b64(bytes(flipped))}") == "signature"
    assert await api.refused(f"{head}.{payload}.{sig[:-4]}") in ("signature", "base64")


# Wycheproof ecdsa_secp256r1_sha256_p1363_test: "signature with special case values" for r and s
# (0, 1, n-1, n, n+1, p), and the DER encoding where P1363 (raw r || s) is required.
def _p1363(r: int, s: int) -> bytes:
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


@pytest.mark.parametrize(
    ("r", "s"),
    [
        (0, 0),
        (0, 1),
        (1, 0),
        (1, 1),
        (P256_ORDER, P256_ORDER),
        (P256_ORDER - 1, P256_ORDER - 1),
        (P256_ORDER, 1),
        (1, P256_ORDER),
    ],
)
async def test_ecdsa_signature_with_r_and_s_zero_and_other_special_values(
    api: API, r: int, s: int
) -> None:
    pair = await api.login()
    token = forge(api.header(), api.claims(pair), signature=_p1363(r, s))
    assert await api.refused(token) == "signature"


async def test_ecdsa_der_encoded_and_truncated_signatures(api: API) -> None:
    pair = await api.login()
    head, payload, sig = pair.access_token.split(".")
    raw = base64.urlsafe_b64decode(sig + "==")
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    der = encode_dss_signature(r, s)
    assert decode_dss_signature(der) == (r, s)
    assert await api.refused(f"{head}.{payload}.{b64(der)}") == "signature"
    assert await api.refused(f"{head}.{payload}.{b64(raw[:63])}") == "signature"
    longer = b64(raw + bytes(1))
    assert await api.refused(f"{head}.{payload}.{longer}") == "signature"


async def test_token_over_the_size_limit(api: API) -> None:
    pair = await api.login()
    big = forge(api.header(), api.claims(pair, pad="x" * 5000), key=api.key)
    assert await api.refused(big) == "size"
    response = await api.get(None, raw="Bearer " + "A" * 20000)
    assert response.status_code == 401
    assert 'error="invalid_request"' in response.headers["www-authenticate"]


@pytest.mark.parametrize(
    "junk",
    ["", ".", "..", "a.b.c", "a.b.c.d", "é.é.é", "e30.e30.", "W10.e30.AA", "bnVsbA.e30.AA"],
)
async def test_garbage_is_a_401_not_a_500(api: API, junk: str) -> None:
    response = await api.get(None, raw=f"Bearer {junk}")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer ")


async def test_token_of_a_revoked_session(api: API) -> None:
    pair = await api.login()
    assert (await api.get(pair.access_token)).status_code == 200
    record = await api.world.sessions.store.get_by_handle(pair.session)
    assert record is not None
    await api.world.sessions.revoke(pair.session)
    assert await api.refused(pair.access_token) == "session"


async def test_token_of_a_session_that_expired(api: API) -> None:
    pair = await api.login()
    api.world.clock.advance(200)
    assert (await api.get(pair.access_token)).status_code == 200
    other = await api.world.tokens.login("alice", CLIENT)
    api.world.clock.advance(15 * 60)  # the sessions' idle timeout passes
    assert await api.refused(other.access_token) in ("session", "expired")


async def test_refresh_token_replayed_after_rotation(api: API) -> None:
    pair = await api.login()
    second = await api.world.tokens.refresh(pair.refresh_token, CLIENT)
    api.world.clock.advance(11)  # past the grace window
    with pytest.raises(InvalidGrant) as caught:
        await api.world.tokens.refresh(pair.refresh_token, CLIENT)
    assert caught.value.reason == "reused"
    assert "token.refresh.reused" in api.world.sink.kinds()
    # The whole family is gone: the successor, the session, and the access tokens.
    with pytest.raises(InvalidGrant):
        await api.world.tokens.refresh(second.refresh_token, CLIENT)
    assert await api.world.sessions.store.get_by_handle(pair.session) is None
    assert await api.refused(second.access_token) == "session"


async def test_access_token_used_as_refresh_token(api: API) -> None:
    pair = await api.login()
    with pytest.raises(InvalidGrant) as caught:
        await api.world.tokens.refresh(pair.access_token, CLIENT)
    assert caught.value.reason == "access token used as refresh token"
    # ...and it did not count as a reuse of anything: the session lives on.
    assert (await api.get(pair.access_token)).status_code == 200


async def test_refresh_token_used_as_access_token(api: API) -> None:
    pair = await api.login()
    assert await api.refused(pair.refresh_token) == "shape"
    # A JWT-shaped wrapper around it fares no better.
    wrapped = forge(api.header(), pair.refresh_token.encode().hex(), key=api.key)
    assert await api.refused(wrapped) in ("json", "base64")


async def test_non_canonical_base64_look_alikes_are_refused(api: API) -> None:
    pair = await api.login()
    head, payload, sig = pair.access_token.split(".")
    # 64 signature bytes -> 86 characters; the last carries 2 data bits and 4 spare bits.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(sig[-1])
    look_alike = sig[:-1] + alphabet[last | 0b0001]
    if look_alike == sig:
        look_alike = sig[:-1] + alphabet[last & ~0b0001]
    assert base64.urlsafe_b64decode(look_alike + "==") == base64.urlsafe_b64decode(sig + "==")
    assert await api.refused(f"{head}.{payload}.{look_alike}") == "base64"
