"""Access tokens: short-lived JWTs bound to a session, issued and verified without I/O.

Verification is deliberately narrower than JWT allows, because every freedom a verifier grants
has been an attack somewhere:

* the size is bounded before anything is decoded;
* the header may carry exactly ``alg``, ``typ`` and ``kid``. ``jku``, ``x5u``, ``jwk``, ``x5c``
  and ``crit`` are refused, so a key is never taken from, or fetched because of, the token;
* ``kid`` selects a key from the ring and that key's one algorithm is the only one accepted
  (``alg: none`` in any spelling, or HS256 "signed" with a public key, cannot match);
* ``typ`` must be ``at+jwt`` (RFC 9068), so an ID token or other JWT signed by the same key is
  not an access token;
* JSON with duplicate member names is refused (two parsers could read two different tokens);
* ``iss``, ``aud``, ``sub``, ``sid``, ``iat``, ``nbf``, ``exp`` and ``jti`` are all required,
  typed and checked against an injected clock with a small, bounded leeway.

Whether the session named by ``sid`` is still alive is the token manager's job (strict or
revocation-list mode), not this module's: here there is no store.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt

from ..core.clock import Clock
from ..errors import ConfigurationError
from .errors import InvalidToken
from .keys import SigningKeys

TOKEN_TYPE = "at+jwt"  # noqa: S105 (a media type, not a secret)
DEFAULT_TTL = 5 * 60
MAX_TTL = 15 * 60
DEFAULT_LEEWAY = 10
MAX_LEEWAY = 60
DEFAULT_MAX_BYTES = 4096
HARD_MAX_BYTES = 16 * 1024
REGISTERED = ("iss", "aud", "sub", "sid", "iat", "nbf", "exp", "jti")
_HEADER_NAMES = frozenset({"alg", "typ", "kid"})
_MAX_NAMES, _MAX_NAME = 8, 32  # bounds on the unexpected header names kept for the audit trail
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class AccessSettings:
    """Who issues, who accepts, and for how long. Bounds are checked here, at start-up."""

    issuer: str
    audience: str
    ttl: int = DEFAULT_TTL
    leeway: int = DEFAULT_LEEWAY
    max_bytes: int = DEFAULT_MAX_BYTES

    def __post_init__(self) -> None:
        if not isinstance(self.issuer, str) or not self.issuer:
            raise ConfigurationError("issuer must be a non-empty string (e.g. your base URL)")
        if not isinstance(self.audience, str) or not self.audience:
            raise ConfigurationError("audience must be a non-empty string (e.g. your API's URL)")
        if not 1 <= self.ttl <= MAX_TTL:
            raise ConfigurationError(
                f"access-token ttl must be 1..{MAX_TTL} seconds: a longer-lived token outlives a "
                "revocation for longer; use refresh tokens instead"
            )
        if not 0 <= self.leeway <= MAX_LEEWAY:
            raise ConfigurationError(f"leeway must be 0..{MAX_LEEWAY} seconds")
        if not 512 <= self.max_bytes <= HARD_MAX_BYTES:
            raise ConfigurationError(f"max_bytes must be 512..{HARD_MAX_BYTES}")


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """A verified access token's claims."""

    subject: str
    session: str
    jti: str
    issued_at: int
    not_before: int
    expires_at: int
    issuer: str
    audience: str
    kid: str
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str = field(repr=False)
    jti: str
    expires_at: int


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate member {key!r}")
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def strict_json(data: bytes) -> dict[str, Any]:
    """Parse a JOSE JSON object: UTF-8, no duplicate names, no NaN/Infinity, an object."""
    try:
        loaded = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_no_duplicates,
            parse_constant=_reject_constant,
        )
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InvalidToken("json", "The access token is malformed.") from exc
    if not isinstance(loaded, dict):
        raise InvalidToken("json", "The access token is malformed.")
    return loaded


def _segment(text: str) -> bytes:
    """Decode one base64url segment, accepting only the canonical encoding.

    A decoder ignores the spare low bits of the last character, so several strings decode to
    the same bytes; refusing all but one keeps a token string from having look-alikes.
    """
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidToken("base64", "The access token is malformed.") from exc
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != text:
        raise InvalidToken("base64", "The access token is malformed.")
    return raw


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class AccessTokens:
    """Issue and verify access tokens with a key ring and an injected clock."""

    def __init__(self, keys: SigningKeys, settings: AccessSettings, clock: Clock) -> None:
        self.keys = keys
        self.settings = settings
        self.clock = clock

    def issue(
        self, *, subject: str, session: str, extra: Mapping[str, Any] | None = None
    ) -> IssuedToken:
        if not isinstance(subject, str) or not subject:
            # The None == None trap: never sign a token for "no user".
            raise ValueError("an access token needs a non-empty string subject")
        if not isinstance(session, str) or not session:
            raise ValueError("an access token needs the session's public handle")
        clash = set(extra or {}) & (set(REGISTERED) | {"typ"})
        if clash:
            raise ValueError(f"extra claims may not override {sorted(clash)}")
        key = self.keys.signing_key
        now = int(self.clock.now())
        jti = secrets.token_urlsafe(16)
        claims: dict[str, Any] = {
            **(extra or {}),
            "iss": self.settings.issuer,
            "aud": self.settings.audience,
            "sub": subject,
            "sid": session,
            "iat": now,
            "nbf": now,
            "exp": now + self.settings.ttl,
            "jti": jti,
        }
        token = jwt.encode(
            claims,
            key.signing_material,
            algorithm=key.algorithm,
            headers={"kid": key.kid, "typ": TOKEN_TYPE},
        )
        if len(token) > self.settings.max_bytes:
            raise ValueError("the token is larger than max_bytes; carry fewer extra claims")
        return IssuedToken(token=token, jti=jti, expires_at=now + self.settings.ttl)

    # -- verification ---------------------------------------------------------------------

    def verify(self, token: str) -> AccessClaims:
        """Return the claims of a valid token; raise :class:`InvalidToken` otherwise."""
        if not isinstance(token, str):
            raise InvalidToken("type", "The access token is malformed.")
        if len(token) > self.settings.max_bytes:
            raise InvalidToken("size", "The access token is too large.")
        parts = token.split(".")
        if len(parts) != 3 or not all(_SEGMENT.fullmatch(p) for p in parts):
            # Also refuses the unsigned "header.payload." form of alg none.
            raise InvalidToken("shape", "The access token is malformed.")
        header = strict_json(_segment(parts[0]))
        _segment(parts[1])
        _segment(parts[2])
        key = self._key_for(header)
        try:
            decoded = jwt.api_jws.PyJWS().decode_complete(
                token,
                key.verifying_material,
                algorithms=[key.algorithm],
            )
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise InvalidToken("signature", "The access token signature is invalid.") from exc
        # typ is checked once the header is known to be authentic: a JWT of another type signed
        # by one of our keys (an ID token, say) is still not an access token.
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in (TOKEN_TYPE, "application/" + TOKEN_TYPE):
            raise InvalidToken("typ", "The token is not an access token.")
        claims = strict_json(decoded["payload"])
        return self._check_claims(claims, key.kid)

    def _key_for(self, header: Mapping[str, Any]) -> Any:
        unexpected = set(header) - _HEADER_NAMES
        if unexpected:
            # jku / x5u / jwk / x5c / crit: never honoured, never fetched; refused outright.
            # The names are the attacker's text: a fixed reason, the names (bounded) as detail.
            members = [name[:_MAX_NAME] for name in sorted(unexpected)[:_MAX_NAMES]]
            raise InvalidToken(
                "header", "The access token is malformed.", detail={"members": members}
            )
        alg, kid = header.get("alg"), header.get("kid")
        if not isinstance(alg, str) or alg.strip().lower() == "none":
            raise InvalidToken("alg", "The access token algorithm is not accepted.")
        if not isinstance(kid, str):
            raise InvalidToken("kid", "The access token names no key.")
        key = self.keys.get(kid)
        if key is None:
            raise InvalidToken("kid", "The access token was signed by an unknown key.")
        if alg != key.algorithm:
            # One algorithm per key: the header cannot choose HS256 for an EdDSA key.
            raise InvalidToken("alg", "The access token algorithm is not accepted.")
        return key

    def _check_claims(self, claims: Mapping[str, Any], kid: str) -> AccessClaims:
        missing = [name for name in REGISTERED if name not in claims]
        if missing:
            raise InvalidToken("missing:" + ",".join(missing), "The access token is incomplete.")
        for name in ("iss", "aud", "sub", "sid", "jti"):
            value = claims[name]
            if not isinstance(value, str) or not value:
                raise InvalidToken(f"claim:{name}", "The access token is malformed.")
        for name in ("iat", "nbf", "exp"):
            if not _is_int(claims[name]):
                raise InvalidToken(f"claim:{name}", "The access token is malformed.")
        if claims["iss"] != self.settings.issuer:
            raise InvalidToken("iss", "The access token has the wrong issuer.")
        if claims["aud"] != self.settings.audience:
            raise InvalidToken("aud", "The access token is for another audience.")
        now = self.clock.now()
        leeway = self.settings.leeway
        iat, nbf, exp = claims["iat"], claims["nbf"], claims["exp"]
        if now >= exp + leeway:
            raise InvalidToken("expired", "The access token expired.")
        if now + leeway < nbf or now + leeway < iat:
            raise InvalidToken("not_yet_valid", "The access token is not valid yet.")
        if exp - iat > MAX_TTL:
            raise InvalidToken("lifetime", "The access token lives too long.")
        extra = {k: v for k, v in claims.items() if k not in REGISTERED}
        return AccessClaims(
            subject=claims["sub"],
            session=claims["sid"],
            jti=claims["jti"],
            issued_at=iat,
            not_before=nbf,
            expires_at=exp,
            issuer=claims["iss"],
            audience=claims["aud"],
            kid=kid,
            extra=extra,
        )
