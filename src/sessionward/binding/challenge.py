"""Challenges and bound cookies: keyed, time-limited values that need no server state.

A challenge names the session (its public handle), what it is for (registration or refresh),
when it was issued (milliseconds) and a random nonce, signed with a key derived from the
configured :class:`~sessionward.core.keys.SecretKeyRing`. Any instance holding the ring can
verify it; it expires after ``challenge_ttl``. *Single use* is the job of the caller: the
session's binding state records the issue time of the last challenge accepted, and only a
newer one is accepted after it (see :mod:`sessionward.binding.protocol`).

A bound cookie carries only its expiry and a MAC over (handle, expiry, key thumbprint): it is
worthless for another session, after its expiry, or once the session's key changed.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass
from typing import Literal

from ..core.keys import SecretKeyRing

Kind = Literal["register", "refresh"]
_KIND_CODE = {"register": "g", "refresh": "f"}
_CHALLENGE = re.compile(r"([gf])\.([0-9]{1,16})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})")
_COOKIE = re.compile(r"1\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def _challenge_message(code: str, handle: str, issued_ms: int, nonce: str) -> bytes:
    return f"dbsc-challenge|{code}|{handle}|{issued_ms}|{nonce}".encode("ascii")


def issue_challenge(keys: SecretKeyRing, handle: str, kind: Kind, now: float) -> str:
    code = _KIND_CODE[kind]
    issued_ms = int(now * 1000)
    nonce = secrets.token_urlsafe(16)
    mac = keys.sign(_challenge_message(code, handle, issued_ms, nonce), purpose="dbsc")
    return f"{code}.{issued_ms}.{nonce}.{_b64(mac)}"


@dataclass(frozen=True, slots=True)
class ChallengeCheck:
    """``issued_ms`` and ``nonce`` when the challenge is genuine and fresh, else ``reason``."""

    issued_ms: int | None = None
    nonce: str = ""
    reason: str | None = None


def check_challenge(
    keys: SecretKeyRing, value: object, handle: str, kind: Kind, now: float, ttl: float
) -> ChallengeCheck:
    if not isinstance(value, str):
        return ChallengeCheck(reason="challenge_invalid")
    match = _CHALLENGE.fullmatch(value)
    if match is None:
        return ChallengeCheck(reason="challenge_invalid")
    code, issued, nonce, mac_text = match.groups()
    mac = _unb64(mac_text)
    issued_ms = int(issued)
    message = _challenge_message(code, handle, issued_ms, nonce)
    if mac is None or not keys.verify(message, mac, purpose="dbsc"):
        # Also what a challenge issued to another session looks like: the handle is signed.
        return ChallengeCheck(reason="challenge_invalid")
    if code != _KIND_CODE[kind]:
        return ChallengeCheck(reason="challenge_invalid")
    age = now - issued_ms / 1000
    if age > ttl or age < -5:
        return ChallengeCheck(reason="challenge_stale")
    return ChallengeCheck(issued_ms=issued_ms, nonce=nonce)


def _cookie_message(handle: str, expires: int, thumbprint: str) -> bytes:
    return f"dbsc-cookie|{handle}|{expires}|{thumbprint}".encode("ascii")


def mint_bound_cookie(keys: SecretKeyRing, handle: str, thumbprint: str, expires: int) -> str:
    mac = keys.sign(_cookie_message(handle, expires, thumbprint), purpose="dbsc")
    return f"1.{expires}.{_b64(mac)}"


def bound_cookie_valid(
    keys: SecretKeyRing, value: str, handle: str, thumbprint: str, now: float
) -> Literal["valid", "invalid", "expired"]:
    match = _COOKIE.fullmatch(value)
    if match is None:
        return "invalid"
    expires = int(match.group(1))
    mac = _unb64(match.group(2))
    if mac is None or not keys.verify(
        _cookie_message(handle, expires, thumbprint), mac, purpose="dbsc"
    ):
        return "invalid"
    return "valid" if now < expires else "expired"
