"""Server secrets and key rings: HMAC-SHA256 with rotation and constant-time verification.

A :class:`SecretKeyRing` holds secrets from oldest to newest. The newest signs; every one verifies,
so a secret can be rotated without invalidating what the previous one signed: add the new
secret at the end, wait until nothing signed by the old one can still be in use, then drop it.

Each signature is made with a key derived for one *purpose* (``"csrf"``, ``"csrf-pre"``, ...),
so a value signed for one use can never be replayed as a valid value for another.

Secrets are wrapped in :class:`Secret`, whose ``repr`` and ``str`` are masked: a secret that
ends up in a log line, a traceback or a debugger shows ``Secret('***')``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Iterator

from ..errors import ConfigurationError

MIN_SECRET_BYTES = 32
_GENERATE_HINT = "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"


class Secret:
    """A secret byte string with a masked ``repr``, compared only in constant time."""

    __slots__ = ("_value",)

    def __init__(self, value: str | bytes) -> None:
        if isinstance(value, str):
            value = value.encode("utf-8")
        if not isinstance(value, bytes):
            raise ConfigurationError(f"a secret must be str or bytes, not {type(value).__name__}")
        if len(value) < MIN_SECRET_BYTES:
            raise ConfigurationError(
                f"a secret must be at least {MIN_SECRET_BYTES} bytes (got {len(value)}); "
                f"{_GENERATE_HINT}"
            )
        self._value = value

    def reveal(self) -> bytes:
        """The secret bytes, for the code that derives keys from it. Never log the result."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(hashlib.sha256(self._value).digest())

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")


class SecretKeyRing:
    """Secrets ordered oldest to newest: the newest signs, all of them verify.

    ``SecretKeyRing(["old-secret...", "new-secret..."])``. Each secret must be at least 32 bytes;
    :meth:`generate` makes a random single-key ring for tests and throw-away processes.
    """

    __slots__ = ("_derived", "_keyed", "_secrets")

    def __init__(self, keys: Iterable[str | bytes | Secret]) -> None:
        if isinstance(keys, str | bytes | Secret):
            raise ConfigurationError(
                "SecretKeyRing takes a list of secrets, oldest first: SecretKeyRing([secret]), not "
                "SecretKeyRing(secret)"
            )
        ring = tuple(k if isinstance(k, Secret) else Secret(k) for k in keys)
        if not ring:
            raise ConfigurationError(f"a SecretKeyRing needs at least one secret; {_GENERATE_HINT}")
        if len(set(ring)) != len(ring):
            raise ConfigurationError("a SecretKeyRing must not hold the same secret twice")
        self._secrets = ring
        # Per-purpose keys, newest first, derived once: a tag is checked on every request.
        self._derived: dict[str, tuple[bytes, ...]] = {}
        # The same keys as HMAC objects that have absorbed their key: each signature copies
        # one (hmac's documented use of copy()) instead of setting up HMAC-SHA256 afresh.
        self._keyed: dict[str, tuple[hmac.HMAC, ...]] = {}

    @classmethod
    def generate(cls) -> SecretKeyRing:
        """A ring with one fresh random secret. What it signs dies with the process."""
        return cls([secrets.token_bytes(MIN_SECRET_BYTES)])

    def __len__(self) -> int:
        return len(self._secrets)

    def __iter__(self) -> Iterator[Secret]:
        return iter(self._secrets)

    def __repr__(self) -> str:
        return f"SecretKeyRing(<{len(self._secrets)} secrets>)"

    @staticmethod
    def _derive(secret: Secret, purpose: str) -> bytes:
        # Domain separation: one HMAC key per purpose, derived from the configured secret.
        label = b"sessionward:" + purpose.encode("utf-8")
        return hmac.new(secret.reveal(), label, hashlib.sha256).digest()

    def _keys(self, purpose: str) -> tuple[bytes, ...]:
        keys = self._derived.get(purpose)
        if keys is None:
            keys = tuple(self._derive(secret, purpose) for secret in reversed(self._secrets))
            self._derived[purpose] = keys
        return keys

    def _macs(self, purpose: str) -> tuple[hmac.HMAC, ...]:
        macs = self._keyed.get(purpose)
        if macs is None:
            macs = tuple(hmac.new(key, digestmod=hashlib.sha256) for key in self._keys(purpose))
            self._keyed[purpose] = macs
        return macs

    def sign(self, message: bytes, *, purpose: str) -> bytes:
        """HMAC-SHA256 of ``message`` under the newest secret (32 bytes)."""
        mac = self._macs(purpose)[0].copy()
        mac.update(message)
        return mac.digest()

    def signatures(self, message: bytes, *, purpose: str) -> Iterator[bytes]:
        """The signature of ``message`` under every secret, newest first."""
        for keyed in self._macs(purpose):
            mac = keyed.copy()
            mac.update(message)
            yield mac.digest()

    def verify(self, message: bytes, signature: bytes, *, purpose: str) -> bool:
        """Whether ``signature`` is the MAC of ``message`` under any secret of the ring.

        Bytes are compared with :func:`hmac.compare_digest`; every key is tried, so the time
        taken does not reveal which key (if any) matched.
        """
        if not isinstance(signature, bytes):
            return False
        matched = False
        for expected in self.signatures(message, purpose=purpose):
            matched |= hmac.compare_digest(expected, signature)
        return matched
