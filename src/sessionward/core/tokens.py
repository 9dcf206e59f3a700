"""Session tokens, the hashes the store keys by, and public handles.

Three values identify a session and each has one job:

* the *token* is the bearer secret in the cookie: 256 bits from the OS CSPRNG. It is never
  stored, never logged and never shown.
* the *key* is SHA-256 of the token. Stores index by it, so a leaked database or log line does
  not hand out live sessions. A plain hash is enough: the token has 256 bits of entropy, there
  is nothing to brute-force.
* the *handle* is an unrelated random value that names the session in lists, audit events and
  revoke URLs. Knowing a handle grants nothing, and it cannot be turned back into the token.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

TOKEN_BYTES = 32
HANDLE_BYTES = 16
# base64url without padding: 32 bytes -> 43 characters.
TOKEN_LENGTH = 43
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
_HANDLE_SHAPE = re.compile(r"[A-Za-z0-9_-]{22}")


def new_token() -> str:
    """A fresh 256-bit session token, base64url-encoded without padding."""
    return base64.urlsafe_b64encode(secrets.token_bytes(TOKEN_BYTES)).rstrip(b"=").decode("ascii")


def new_handle() -> str:
    """A fresh public handle (128 random bits), safe to display and log."""
    return secrets.token_urlsafe(HANDLE_BYTES)


def is_well_formed_token(value: str) -> bool:
    """True when ``value`` has the exact shape of a token we issue.

    Checked before any store lookup, so junk never costs a round trip and never reaches a query.
    """
    return _TOKEN_SHAPE.fullmatch(value) is not None


def is_well_formed_handle(value: str) -> bool:
    return _HANDLE_SHAPE.fullmatch(value) is not None


def token_key(token: str) -> str:
    """The store key of a token: hex SHA-256 of its ASCII bytes."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()
