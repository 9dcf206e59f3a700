"""Session tokens, the hashes the store keys by, and public handles.

Three values identify a session and each has one job:

* the *token* is the bearer secret in the cookie: 256 bits from the OS CSPRNG. It is never
  stored, never logged and never shown.
* the *key* is SHA-256 of the token. Stores index by it, so a leaked database or log line does
  not hand out live sessions. A plain hash is enough: the token has 256 bits of entropy, there
  is nothing to brute-force.
* the *handle* is an unrelated random value that names the session in lists, audit events and
  revoke URLs. Knowing a handle grants nothing, and it cannot be turned back into the token.

A session token is the 43-character random part followed by a 22-character *tag*: HMAC-SHA256
of the random part under the manager's token key ring, truncated to 128 bits. The tag is not a
credential (the store lookup is what authenticates) but a filter: it tells a value sessionward
issued from a forged one without any store call, so the guessing guard counts forgeries only
and a genuine cookie whose session ended (logout, expiry, a Redis restart) is never a "guess".
The store key is SHA-256 of the random part alone (:func:`session_key`), so it does not depend
on the tag key, and 43-character tokens issued before tags existed keep working.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import re
import secrets
from enum import Enum

from .keys import SecretKeyRing

TOKEN_BYTES = 32
HANDLE_BYTES = 16
# base64url without padding: 32 bytes -> 43 characters.
TOKEN_LENGTH = 43
TAG_BYTES = 16
TAG_LENGTH = 22
TAGGED_LENGTH = TOKEN_LENGTH + TAG_LENGTH
TAG_PURPOSE = "session-token-tag"
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}(?:[A-Za-z0-9_-]{22})?")
_HANDLE_SHAPE = re.compile(r"[A-Za-z0-9_-]{22}")


# base64url <-> standard base64: binascii (C) does the encoding; only the alphabet differs.
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_TO_STANDARD_BYTES = bytes.maketrans(b"-_", b"+/")


def _b64(raw: bytes) -> str:
    """base64url without padding."""
    return binascii.b2a_base64(raw, newline=False).translate(_TO_URLSAFE).rstrip(b"=").decode()


def new_token(keys: SecretKeyRing | None = None) -> str:
    """A fresh 256-bit session token, base64url-encoded; tagged when ``keys`` are given."""
    token = _b64(secrets.token_bytes(TOKEN_BYTES))
    return token if keys is None else tag_token(token, keys)


class Tag(Enum):
    """What the tag of a well-formed token says."""

    VALID = "valid"  # issued under one of the ring's keys
    INVALID = "invalid"  # a tag no key of the ring made: forged (or from an unknown key)
    ABSENT = "absent"  # an untagged token (issued before tags, or derived by old code)


def tag_token(token: str, keys: SecretKeyRing) -> str:
    """``token``'s random part with a fresh tag under the newest key of ``keys``."""
    random_part = token[:TOKEN_LENGTH]
    mac = keys.sign(random_part.encode("ascii"), purpose=TAG_PURPOSE)
    return random_part + _b64(mac[:TAG_BYTES])


def check_tag(token: str, keys: SecretKeyRing) -> Tag:
    """Whether a well-formed ``token`` carries a tag one of ``keys`` made (constant time)."""
    if len(token) == TOKEN_LENGTH:
        return Tag.ABSENT
    raw = token.encode("ascii")
    # The presented tag in standard base64 with its padding, compared with each expected tag
    # encoded the same way: an encoding compare, so a non-canonical spelling never matches.
    presented = raw[TOKEN_LENGTH:].translate(_TO_STANDARD_BYTES) + b"=="
    matched = False
    # Every key is tried, so the time taken does not say which one (if any) matched.
    for mac in keys.signatures(raw[:TOKEN_LENGTH], purpose=TAG_PURPOSE):
        expected = binascii.b2a_base64(mac[:TAG_BYTES], newline=False)
        matched |= hmac.compare_digest(expected, presented)
    return Tag.VALID if matched else Tag.INVALID


def random_part(token: str) -> str:
    """The 256 random bits of a token (its first 43 characters), without the tag."""
    return token[:TOKEN_LENGTH]


def new_handle() -> str:
    """A fresh public handle (128 random bits), safe to display and log.

    Never one that starts with ``-``, which a command line would read as options (the admin
    CLI takes handles as arguments); drawing again costs 0.02 bits of the 128.
    """
    while True:
        handle = secrets.token_urlsafe(HANDLE_BYTES)
        if handle[0] != "-":
            return handle


def is_well_formed_token(value: str) -> bool:
    """True when ``value`` has the exact shape of a token we issue.

    Checked before any store lookup, so junk never costs a round trip and never reaches a query.
    """
    return _TOKEN_SHAPE.fullmatch(value) is not None


def is_well_formed_handle(value: str) -> bool:
    return _HANDLE_SHAPE.fullmatch(value) is not None


def token_key(token: str) -> str:
    """Hex SHA-256 of a token's ASCII bytes (refresh tokens are keyed by this)."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def session_key(token: str) -> str:
    """The store key of a session token: hex SHA-256 of its random part (tag excluded)."""
    return token_key(token[:TOKEN_LENGTH])
