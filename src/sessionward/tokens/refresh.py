"""Refresh tokens: opaque, 256-bit, hashed at rest, one family per session, rotated on use.

A refresh token is a random value with a fixed prefix (so it can never be mistaken for a JWT or
a session cookie, and a secret scanner can recognise it). The store keeps SHA-256 of it only.

Every use rotates it: the presented token is marked rotated and a successor is stored. Using a
rotated token again is the signature of theft (two parties hold the same token), so the whole
family dies: the session and, through it, its access tokens (RFC 9700 section 4.14.2).

Several browser tabs refreshing at once would trip that alarm among themselves. For a short
grace window after a rotation the presented token instead yields *the same* successor. The
successor cannot be stored in the clear (a store leak would hand it out), so it is sealed with
AES-GCM under a key derived by HKDF from the presented token: only someone who holds the
rotated token can open it, and only inside the window.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
from dataclasses import dataclass, field, replace
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..core.session_tokens import token_key

PREFIX = "swrt_"
_BYTES = 32
_SHAPE = re.compile(r"swrt_[A-Za-z0-9_-]{43}")
_INFO = b"sessionward refresh successor v1"


def new_refresh_token() -> str:
    return PREFIX + base64.urlsafe_b64encode(secrets.token_bytes(_BYTES)).rstrip(b"=").decode()


def is_well_formed(value: object) -> bool:
    return isinstance(value, str) and _SHAPE.fullmatch(value) is not None


def refresh_key(token: str) -> str:
    """The store key of a refresh token: hex SHA-256, like session tokens."""
    return token_key(token)


@dataclass(frozen=True, slots=True)
class RefreshRecord:
    """One refresh token as stored: its hash, its family, its session and its fate.

    ``rotated_at`` is set once the token has been used; ``sealed`` then holds the successor,
    encrypted under a key only the holder of this token can derive.
    """

    key: str
    family: str
    session: str
    user_id: str
    issued_at: float
    expires_at: float
    rotated_at: float | None = None
    sealed: str | None = field(default=None, repr=False)

    def evolve(self, **changes: Any) -> RefreshRecord:
        return replace(self, **changes)


def _aead(token: str) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        token.encode("ascii")
    )
    return AESGCM(key)


def seal(presented: str, successor: str) -> str:
    """Encrypt ``successor`` so that only the holder of ``presented`` can recover it."""
    nonce = os.urandom(12)
    box = _aead(presented).encrypt(
        nonce, successor.encode("ascii"), refresh_key(presented).encode()
    )
    return base64.urlsafe_b64encode(nonce + box).decode("ascii")


def unseal(presented: str, sealed: str) -> str | None:
    try:
        raw = base64.urlsafe_b64decode(sealed.encode("ascii"))
        nonce, box = raw[:12], raw[12:]
        plain = _aead(presented).decrypt(nonce, box, refresh_key(presented).encode())
        return plain.decode("ascii")
    except (InvalidTag, ValueError, UnicodeError):
        return None
