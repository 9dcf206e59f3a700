"""Verification of DBSC proofs: JWTs signed by the browser's session key.

A registration proof carries its public key in the JOSE header (``jwk``); a refresh proof is
verified with the key stored at registration, and any key in its header is ignored (trusting
it would let anyone sign with a key of their own). ``alg`` is pinned to what was offered
(ES256, RS256): ``none`` and every HMAC algorithm are refused before PyJWT sees the token, and
PyJWT is told the single algorithm it may accept. Sizes are bounded so a crafted proof costs
little to refuse. Every failure is a :class:`ProofError` with a short, fixed ``reason``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

try:
    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "sessionward's device binding needs PyJWT[crypto]: pip install 'sessionward[jwt]'"
    ) from exc

from ..errors import SessionwardError

SUPPORTED_ALGORITHMS = ("ES256", "RS256")
MAX_PROOF_BYTES = 6 * 1024
MAX_JWK_MEMBERS = 12
PROOF_TYPE = "dbsc+jwt"
_KTY = {"ES256": "EC", "RS256": "RSA"}
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_MIN_RSA_BITS = 2048
_MAX_RSA_BITS = 4096


class ProofError(SessionwardError, ValueError):
    """A proof that does not verify; ``reason`` is a fixed word, never attacker text."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class VerifiedProof:
    alg: str
    jwk: Mapping[str, str]
    thumbprint: str
    challenge: str
    claims: Mapping[str, Any]


def _b64_json(segment: str) -> Any:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        return json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        return None


def _unverified_header(token: str) -> dict[str, Any]:
    if not isinstance(token, str) or len(token) > MAX_PROOF_BYTES:
        raise ProofError("oversized")
    parts = token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise ProofError("malformed")
    header = _b64_json(parts[0])
    if not isinstance(header, dict):
        raise ProofError("malformed")
    return header


def _check_alg(header: Mapping[str, Any], allowed: tuple[str, ...]) -> str:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in allowed or alg not in SUPPORTED_ALGORITHMS:
        # Covers "none", "HS256" and friends, and anything not offered for this session.
        raise ProofError("alg")
    if header.get("typ") != PROOF_TYPE:
        raise ProofError("typ")
    return alg


def _b64_int_bytes(value: object, *, most: int | None = None, limit: int = 1024) -> bytes:
    if not isinstance(value, str) or not value or len(value) > limit:
        raise ProofError("jwk")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ProofError("jwk") from exc
    if not raw or (most is not None and len(raw) > most):
        raise ProofError("jwk")
    return raw


def public_jwk(candidate: object, alg: str) -> dict[str, str]:
    """The canonical public JWK (only its required members), or :class:`ProofError`.

    Refuses private members, the wrong key type for ``alg``, curves other than P-256 and RSA
    moduli outside 2048-4096 bits.
    """
    if not isinstance(candidate, dict) or len(candidate) > MAX_JWK_MEMBERS:
        raise ProofError("jwk")
    if _PRIVATE_MEMBERS & candidate.keys():
        raise ProofError("jwk")
    if candidate.get("kty") != _KTY[alg]:
        raise ProofError("jwk")
    try:
        if alg == "ES256":
            if candidate.get("crv") != "P-256":
                raise ProofError("jwk")
            # RFC 7518 wants exactly 32 bytes; a shorter (unpadded) coordinate is accepted
            # since the point is checked on the curve anyway.
            x = _b64_int_bytes(candidate.get("x"), most=32, limit=44)
            y = _b64_int_bytes(candidate.get("y"), most=32, limit=44)
            # Builds the point: a point not on the curve raises here.
            ec.EllipticCurvePublicNumbers(
                int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
            ).public_key()
            return {"kty": "EC", "crv": "P-256", "x": candidate["x"], "y": candidate["y"]}
        n = int.from_bytes(_b64_int_bytes(candidate.get("n"), limit=700), "big")
        e = int.from_bytes(_b64_int_bytes(candidate.get("e"), limit=8), "big")
        if not (_MIN_RSA_BITS <= n.bit_length() <= _MAX_RSA_BITS) or e < 3 or e % 2 == 0:
            raise ProofError("jwk")
        rsa.RSAPublicNumbers(e, n).public_key()
        return {"kty": "RSA", "n": candidate["n"], "e": candidate["e"]}
    except ProofError:
        raise
    except (ValueError, TypeError) as exc:
        raise ProofError("jwk") from exc


def thumbprint(jwk: Mapping[str, str]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url) of a canonical public JWK."""
    members = ("crv", "kty", "x", "y") if jwk["kty"] == "EC" else ("e", "kty", "n")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _decode(token: str, jwk: Mapping[str, str], alg: str) -> dict[str, Any]:
    try:
        key = jwt.PyJWK(dict(jwk), algorithm=alg)
        claims = jwt.decode(
            token,
            key=key,
            algorithms=[alg],
            # Freshness comes from the signed challenge (and the injected clock), not from
            # claims the client chose; Chromium sends no exp/iat.
            options={
                "require": ["jti"],
                "verify_aud": False,
                "verify_iss": False,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
            },
        )
    except jwt.InvalidSignatureError as exc:
        raise ProofError("signature") from exc
    except jwt.PyJWTError as exc:  # undecodable segments, a missing jti, a bad crit header
        raise ProofError("malformed") from exc
    except (ValueError, TypeError) as exc:
        raise ProofError("malformed") from exc
    if not isinstance(claims, dict) or not isinstance(claims.get("jti"), str):
        raise ProofError("malformed")
    return claims


def verify_registration(token: str, allowed: tuple[str, ...]) -> VerifiedProof:
    """Check a registration proof signed by the key in its own ``jwk`` header."""
    header = _unverified_header(token)
    alg = _check_alg(header, allowed)
    jwk = public_jwk(header.get("jwk"), alg)
    claims = _decode(token, jwk, alg)
    return VerifiedProof(alg, jwk, thumbprint(jwk), claims["jti"], claims)


def verify_refresh(token: str, jwk: Mapping[str, str], alg: str) -> VerifiedProof:
    """Check a refresh proof against the key registered for the session."""
    header = _unverified_header(token)
    if _check_alg(header, (alg,)) != alg:  # pragma: no cover - _check_alg pins it
        raise ProofError("alg")
    claims = _decode(token, jwk, alg)
    return VerifiedProof(alg, jwk, thumbprint(jwk), claims["jti"], claims)
