"""Published test vectors, written out here (nothing is downloaded at test time).

The vectors' signatures must verify with keys loaded the way sessionward loads keys and with
the same JWS call the verifier makes; then the verifier must still refuse them as access
tokens, because none carries ``typ: at+jwt`` (and most no ``kid``): a valid signature by a
trusted key is necessary, never sufficient.
"""

from __future__ import annotations

import base64

import jwt
import pytest

from sessionward import ConfigurationError
from sessionward.testing import FakeClock
from sessionward.tokens import AccessTokens, InvalidToken, SigningKey, SigningKeys

from .helpers import SETTINGS


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# RFC 7515 appendix A.1: HS256.
RFC7515_A1_KEY = _unb64(
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"
)
RFC7515_A1 = (
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)
# RFC 7515 appendix A.3: ES256 (P-256).
RFC7515_A3_JWK = {
    "kty": "EC",
    "crv": "P-256",
    "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
    "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
}
RFC7515_A3 = (
    "eyJhbGciOiJFUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
)
# RFC 8037 appendix A.4: Ed25519 (EdDSA).
RFC8037_JWK = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
RFC8037_A4 = (
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
    ".hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)
# RFC 7520 section 4.4: HS256 with a kid.
RFC7520_44_KID = "018c0ae5-4d9b-471b-bfd6-eef314bc7037"
RFC7520_44_KEY = _unb64("hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg")
RFC7520_44 = (
    "eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcxYi1iZmQ2LWVlZjMxNGJjNzAzNyJ9"
    ".SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb2"
    "50byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2"
    "hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4"
    ".s0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0"
)

VECTORS = [
    pytest.param(RFC7515_A1, SigningKey.hmac(RFC7515_A1_KEY, kid="a1"), id="rfc7515-a1-hs256"),
    pytest.param(RFC7515_A3, SigningKey.from_jwk(RFC7515_A3_JWK), id="rfc7515-a3-es256"),
    pytest.param(RFC8037_A4, SigningKey.from_jwk(RFC8037_JWK), id="rfc8037-a4-ed25519"),
    pytest.param(
        RFC7520_44, SigningKey.hmac(RFC7520_44_KEY, kid=RFC7520_44_KID), id="rfc7520-4.4-hs256"
    ),
]


def _verify_signature(token: str, key: SigningKey) -> bytes:
    decoded = jwt.api_jws.PyJWS().decode_complete(
        token, key.verifying_material, algorithms=[key.algorithm]
    )
    payload: bytes = decoded["payload"]
    return payload


@pytest.mark.parametrize(("token", "key"), VECTORS)
def test_published_signatures_verify_with_our_key_loading(token: str, key: SigningKey) -> None:
    assert _verify_signature(token, key)


@pytest.mark.parametrize(("token", "key"), VECTORS)
def test_published_vectors_with_one_byte_changed_do_not_verify(token: str, key: SigningKey) -> None:
    head, payload, sig = token.split(".")
    changed_payload = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    with pytest.raises(jwt.InvalidSignatureError):
        _verify_signature(f"{head}.{changed_payload}.{sig}", key)
    changed_sig = ("A" if sig[0] != "A" else "B") + sig[1:]
    with pytest.raises(jwt.InvalidSignatureError):
        _verify_signature(f"{head}.{payload}.{changed_sig}", key)


@pytest.mark.parametrize(("token", "key"), VECTORS)
def test_published_vectors_are_not_access_tokens(
    token: str, key: SigningKey, clock: FakeClock
) -> None:
    verifier = AccessTokens(SigningKeys([key]), SETTINGS, clock)
    with pytest.raises(InvalidToken) as caught:
        verifier.verify(token)
    # typ is checked before kid: none of these says at+jwt.
    assert caught.value.reason in ("typ", "kid")


def test_rfc7515_a3_with_the_wrong_algorithm_for_its_key_is_refused(clock: FakeClock) -> None:
    # The same ES256 key registered for EdDSA cannot exist: one algorithm per key.
    es = SigningKey.from_jwk(RFC7515_A3_JWK)
    with pytest.raises(ConfigurationError):
        SigningKey(algorithm="EdDSA", public=es.verifying_material)  # type: ignore[arg-type]
