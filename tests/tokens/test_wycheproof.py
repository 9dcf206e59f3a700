"""Wycheproof JSON Web Signature vectors (C2SP/wycheproof, testvectors/json_web_signature_test.json,
groups "hs256" and "es256", tcId 1-32), written out here; nothing is fetched at test time.

Each vector runs through the real verifier with the vector's key in the ring. None carries
``typ: at+jwt``, so none is an access token; what matters is *where* each is refused: the
"valid" ones pass every check up to and including the signature and are refused only for
``typ``, while every "invalid" one is refused before that (shape, key, algorithm, header or
signature).
"""

from __future__ import annotations

import base64

import pytest

from sessionward.testing import FakeClock
from sessionward.tokens import AccessTokens, InvalidToken, SigningKey, SigningKeys

from .helpers import SETTINGS

HS256_KEY = SigningKey.hmac(
    base64.urlsafe_b64decode("-ebuDNsVZ2iJtoZ-akfXTSCt4UO2cruLCsbWlBinggE="), kid="kid-aes-sign"
)
ES256_KEY = SigningKey.from_jwk(
    {
        "kty": "EC",
        "crv": "P-256",
        "x": "04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY",
        "y": "UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw",
        "kid": "kid-ec-sign",
    }
)

_HS_HEAD = "eyJhbGciOiJIUzI1NiIsImtpZCI6ImtpZC1hZXMtc2lnbiJ9"
_HS_SIG = "TD37p4c_0jmreSrBSDmE0F3mYSPtkZ3WrSyI5wb_KTg"
_ES_HEAD = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImtpZC1lYy1zaWduIn0"
_ES_SIG = "5cA0OHyMP7ezamUd5c9kV-FrGxdx4hbGXOdplQkutrqWrte5P-pAvsE3Ve6xSyU3YDQwUHjVVOtvcrEbbnZ8yA"
_EMBEDDED_JWK = (
    "eyJhbGciOiJFUzI1NiIsImtpZCI6ImtpZC1lYy1zaWduIiwiandrIjp7Imt0eSI6IkVDIiwia2lkIjoia2lkLWVjLXN"
    "pZ24iLCJ1c2UiOiJzaWciLCJhbGciOiJFUzI1NiIsIngiOiJNZG5UWkRJaERKYmZBU2RGcWFtY3BPMkNoOUdOS0sybTB"
    "NUWxoNDAyU3BvIiwieSI6Ijdhdko0bHFfV3l4LW5MUERCUTJZcHl0dUh5TWlvMDdCVXl2bDNqYUMtMVkiLCJjcnYiOiJ"
    "QLTI1NiJ9fQ.Zm9v.4jmsollQD8ZxvySzXYnIEYA4fwaZi2ZbC0aI1J4LYmW2Bn31NhKdjms2N6o51Dff5-InWXQF9m45"
    "VtTexl6yjg"
)

# (tcId, comment, jws, result)
VECTORS = [
    (1, "acceptsValid", f"{_HS_HEAD}.Zm9v.{_HS_SIG}", "valid"),
    (2, "rejectsModifiedSignature", f"{_HS_HEAD}.Zm9v.X{_HS_SIG[1:]}", "invalid"),
    (3, "rejectsMissingSignature", f"{_HS_HEAD}.Zm9v.", "invalid"),
    (4, "rejectsMissingSignatureAndSeparator", f"{_HS_HEAD}.Zm9v", "invalid"),
    (5, "rejectsModifiedPayload", f"{_HS_HEAD}.WG9v.{_HS_SIG}", "invalid"),
    (6, "rejectsMissingPayload", f"{_HS_HEAD}..{_HS_SIG}", "invalid"),
    (7, "rejectsMissingPayloadAndSeparator", f"{_HS_HEAD}.{_HS_SIG}", "invalid"),
    (
        8,
        "rejectsModifiedHeader",
        f"eyJhbGciOiJIUzI1NiIsImtpZCI6IlhpZC1hZXMtc2lnbiJ9.Zm9v.{_HS_SIG}",
        "invalid",
    ),
    (9, "rejectsMissingHeader", f".Zm9v.{_HS_SIG}", "invalid"),
    (10, "rejectsMissingHeaderAndSeparator", f"Zm9v.{_HS_SIG}", "invalid"),
    (11, "rejectsMissingHeaderAndSignature", ".Zm9v.", "invalid"),
    (12, "rejectsMissingHeaderSignatureAndSeparators", "Zm9v", "invalid"),
    (13, "rejectsEmptyString", "", "invalid"),
    (14, "rejectsExtraEmptyComponent", f"{_HS_HEAD}.Zm9v.{_HS_SIG}.", "invalid"),
    (15, "rejectsExtraComponent", f"{_HS_HEAD}.Zm9v.{_HS_SIG}.foo", "invalid"),
    (
        16,
        "rejectsNoneAlgorithmAndMissingSignature",
        "eyJhbGciOiJub25lIiwia2lkIjoia2lkLWFlcy1zaWduIn0.Zm9v.",
        "invalid",
    ),
    (
        17,
        "rejectsValidJsonSerialization",
        '{"payload":"Zm9v","signatures":[{"protected":"' + _HS_HEAD + '","header":{"unknown":'
        '"untrustworthy"},"signature":"' + _HS_SIG + '"}',
        "invalid",
    ),
    (18, "acceptsValid", f"{_ES_HEAD}.Zm9v.{_ES_SIG}", "valid"),
    (19, "rejectsModifiedSignature", f"{_ES_HEAD}.Zm9v.X{_ES_SIG[1:]}", "invalid"),
    (20, "rejectsMissingSignature", f"{_ES_HEAD}.Zm9v.", "invalid"),
    (21, "rejectsMissingSignatureAndSeparator", f"{_ES_HEAD}.Zm9v", "invalid"),
    (22, "rejectsModifiedPayload", f"{_ES_HEAD}.WG9v.{_ES_SIG}", "invalid"),
    (23, "rejectsMissingPayload", f"{_ES_HEAD}..{_ES_SIG}", "invalid"),
    (24, "rejectsMissingPayloadAndSeparator", f"{_ES_HEAD}.{_ES_SIG}", "invalid"),
    (
        25,
        "rejectsModifiedHeader",
        f"eyJhbGciOiJFUzI1NiIsImtpZCI6IlhpZC1lYy1zaWduIn0.Zm9v.{_ES_SIG}",
        "invalid",
    ),
    (26, "rejectsMissingHeader", f".Zm9v.{_ES_SIG}", "invalid"),
    (27, "rejectsMissingHeaderAndSeparator", f"Zm9v.{_ES_SIG}", "invalid"),
    (28, "rejectsMissingHeaderAndSignature", ".Zm9v.", "invalid"),
    (29, "rejectsMissingHeaderSignatureAndSeparators", "Zm9v", "invalid"),
    (30, "rejectsEmptyString", "", "invalid"),
    (
        31,
        "rejectsSymmetryConfusionAttacks_aesKeyFromEcVerificationKeyBytes",
        "eyJhbGciOiJIUzI1NiIsImtpZCI6ImtpZC1lYy1zaWduIn0.Zm9v."
        "TgWtz2FIRukBQ_mA5sgHa0Ybtgn7bl-YBPAi7Z0XdHU",
        "invalid",
    ),
    (32, "rejectsAttackerProvidedEmbeddedJwk", _EMBEDDED_JWK, "invalid"),
]


@pytest.mark.parametrize(
    ("tc_id", "comment", "jws", "result"), VECTORS, ids=[f"tc{v[0]}-{v[1]}" for v in VECTORS]
)
def test_wycheproof_json_web_signature(
    tc_id: int, comment: str, jws: str, result: str, clock: FakeClock
) -> None:
    verifier = AccessTokens(SigningKeys([HS256_KEY, ES256_KEY]), SETTINGS, clock)
    with pytest.raises(InvalidToken) as caught:
        verifier.verify(jws)
    if result == "valid":
        assert caught.value.reason == "typ", comment
    else:
        assert caught.value.reason != "typ", comment


def test_the_es256_valid_vector_fails_with_the_wrong_key(clock: FakeClock) -> None:
    other = SigningKey.generate("ES256", kid="kid-ec-sign")
    verifier = AccessTokens(SigningKeys([other]), SETTINGS, clock)
    with pytest.raises(InvalidToken) as caught:
        verifier.verify(f"{_ES_HEAD}.Zm9v.{_ES_SIG}")
    assert caught.value.reason == "signature"
