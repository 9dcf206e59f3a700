"""Signing keys and the key ring: one algorithm per key, ``kid`` on every token, rotation.

A :class:`SigningKey` is bound to exactly one algorithm when it is made; the verifier takes the
algorithm from the key the ``kid`` names, never from the token's own ``alg`` header (a verifier
that trusts ``alg`` can be talked into ``none`` or into HMAC keyed with a public key).

The :class:`SigningKeys` holds keys oldest to newest, like itsdangerous' key lists: the newest key
that has a private part signs, every key verifies until it is retired. Rotation is therefore
"add the new key, wait one access-token lifetime, retire the old one".

Keys come from PEM files or environment variables. Nothing here generates a key behind the
caller's back: :meth:`SigningKeys.development` is the one explicit switch that creates a key file,
and it logs that it did.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from ..deprecations import moved_names as _moved_names
from ..errors import ConfigurationError

Algorithm = Literal["EdDSA", "ES256", "HS256"]
ALGORITHMS: tuple[Algorithm, ...] = ("EdDSA", "ES256", "HS256")
#: HS256 is allowed only with a key at least as long as its output (RFC 7518 section 3.2).
MIN_HMAC_KEY_BYTES = 32
ENV_KEYS = "SESSIONWARD_JWT_KEYS"

PrivateKey: TypeAlias = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey: TypeAlias = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey

_KID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_PEM_BLOCK = re.compile(
    r"-----BEGIN ([A-Z ]+)-----[A-Za-z0-9+/=\s]+?-----END \1-----", re.MULTILINE
)
logger = logging.getLogger("sessionward")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _algorithm_of(key: object) -> Algorithm:
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "EdDSA"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if isinstance(key.curve, ec.SECP256R1):
            return "ES256"
        raise ConfigurationError(f"EC keys must be on P-256 for ES256, not {key.curve.name}")
    raise ConfigurationError(
        f"unsupported key type {type(key).__name__}: use Ed25519 (EdDSA) or P-256 (ES256)"
    )


class SigningKey:
    """One key, one algorithm, one ``kid``. The ``repr`` never shows key material."""

    __slots__ = ("_private", "_public", "algorithm", "kid")

    def __init__(
        self,
        *,
        algorithm: Algorithm,
        private: PrivateKey | None = None,
        public: PublicKey | None = None,
        secret: bytes | None = None,
        kid: str | None = None,
    ) -> None:
        if algorithm not in ALGORITHMS:
            raise ConfigurationError(f"algorithm must be one of {', '.join(ALGORITHMS)}")
        self.algorithm: Algorithm = algorithm
        self._private: PrivateKey | bytes | None
        self._public: PublicKey | bytes
        if algorithm == "HS256":
            if private is not None or public is not None:
                raise ConfigurationError("HS256 keys take secret=, not a private/public key")
            if not isinstance(secret, bytes) or len(secret) < MIN_HMAC_KEY_BYTES:
                raise ConfigurationError(
                    f"an HS256 secret must be at least {MIN_HMAC_KEY_BYTES} random bytes "
                    "(secrets.token_bytes(32)); prefer EdDSA or ES256, which need no shared secret"
                )
            if kid is None:
                raise ConfigurationError("an HS256 key needs an explicit kid")
            self._private = self._public = secret
        else:
            if secret is not None:
                raise ConfigurationError(f"{algorithm} keys take private= or public=, not secret=")
            if private is not None:
                public = private.public_key()
            if public is None:
                raise ConfigurationError(f"a {algorithm} key needs private= or public=")
            if _algorithm_of(public) != algorithm:
                raise ConfigurationError(
                    f"a {type(public).__name__} cannot be used for {algorithm} "
                    "(one algorithm per key)"
                )
            self._private = private
            self._public = public
        self.kid = kid if kid is not None else self.thumbprint()
        if not _KID.fullmatch(self.kid):
            raise ConfigurationError("kid must be 1-64 characters of A-Z a-z 0-9 . _ -")

    # -- construction --------------------------------------------------------------------

    @classmethod
    def generate(cls, algorithm: Algorithm = "EdDSA", *, kid: str | None = None) -> SigningKey:
        """A fresh asymmetric key, in memory. Persisting it is the caller's business."""
        if algorithm == "EdDSA":
            return cls(algorithm="EdDSA", private=ed25519.Ed25519PrivateKey.generate(), kid=kid)
        if algorithm == "ES256":
            key = ec.generate_private_key(ec.SECP256R1())
            return cls(algorithm="ES256", private=key, kid=kid)
        raise ConfigurationError("generate() makes EdDSA or ES256 keys; HS256 takes secret=")

    @classmethod
    def hmac(cls, secret: bytes, *, kid: str) -> SigningKey:
        return cls(algorithm="HS256", secret=secret, kid=kid)

    @classmethod
    def from_pem(
        cls, data: bytes | str, *, kid: str | None = None, password: bytes | None = None
    ) -> SigningKey:
        """Load a PEM private key (signs and verifies) or public key (verifies only)."""
        raw = data.encode("ascii") if isinstance(data, str) else data
        loaded: Any
        try:
            if b"PRIVATE KEY" in raw:
                loaded = serialization.load_pem_private_key(raw, password=password)
            else:
                loaded = serialization.load_pem_public_key(raw)
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(f"cannot load PEM key: {exc}") from exc
        algorithm = _algorithm_of(loaded)
        if isinstance(loaded, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
            return cls(algorithm=algorithm, private=loaded, kid=kid)
        return cls(algorithm=algorithm, public=loaded, kid=kid)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, kid: str | None = None) -> SigningKey:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise ConfigurationError(f"cannot read key file {path}: {exc}") from exc
        return cls.from_pem(data, kid=kid)

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> SigningKey:
        """A verify-only key from a public JWK (Ed25519 ``OKP`` or P-256 ``EC``)."""
        kid = jwk.get("kid")
        try:
            if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
                okp = ed25519.Ed25519PublicKey.from_public_bytes(_b64decode(jwk["x"]))
                return cls(algorithm="EdDSA", public=okp, kid=kid)
            if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
                numbers = ec.EllipticCurvePublicNumbers(
                    int.from_bytes(_b64decode(jwk["x"]), "big"),
                    int.from_bytes(_b64decode(jwk["y"]), "big"),
                    ec.SECP256R1(),
                )
                return cls(algorithm="ES256", public=numbers.public_key(), kid=kid)
        except (KeyError, ValueError, TypeError) as exc:
            raise ConfigurationError(f"invalid JWK: {exc}") from exc
        raise ConfigurationError("only Ed25519 (OKP) and P-256 (EC) public JWKs are supported")

    # -- use -----------------------------------------------------------------------------

    @property
    def can_sign(self) -> bool:
        return self._private is not None

    @property
    def signing_material(self) -> PrivateKey | bytes:
        if self._private is None:
            raise ConfigurationError(f"key {self.kid} has no private part; it only verifies")
        return self._private

    @property
    def verifying_material(self) -> PublicKey | bytes:
        return self._public

    def public_jwk(self) -> dict[str, str] | None:
        """The public JWK of this key (``None`` for HS256: a shared secret is never published)."""
        jwk = self._key_params()
        if jwk is not None:
            jwk.update(kid=self.kid, alg=self.algorithm, use="sig")
        return jwk

    def _key_params(self) -> dict[str, str] | None:
        public = self._public
        if isinstance(public, bytes):
            return None
        if isinstance(public, ed25519.Ed25519PublicKey):
            raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64(raw)}
        else:
            numbers = public.public_numbers()
            jwk = {
                "kty": "EC",
                "crv": "P-256",
                "x": _b64(numbers.x.to_bytes(32, "big")),
                "y": _b64(numbers.y.to_bytes(32, "big")),
            }
        return jwk

    def thumbprint(self) -> str:
        """RFC 7638 JWK thumbprint: a ``kid`` derived from the public key itself."""
        jwk = self._key_params()
        if jwk is None:
            raise ConfigurationError("an HS256 key has no thumbprint; give it a kid")
        required = ("crv", "kty", "x") if jwk["kty"] == "OKP" else ("crv", "kty", "x", "y")
        canonical = json.dumps({k: jwk[k] for k in required}, separators=(",", ":"))
        return _b64(hashlib.sha256(canonical.encode("ascii")).digest())

    def private_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM (to write a development key file)."""
        private = self.signing_material
        if isinstance(private, bytes):
            raise ConfigurationError("HS256 secrets have no PEM form")
        return private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def __repr__(self) -> str:
        part = "private" if self.can_sign else "public"
        return f"SigningKey(kid={self.kid!r}, algorithm={self.algorithm!r}, {part}=***)"


class SigningKeys:
    """The JWT signing keys, oldest to newest: the newest key able to sign signs, all verify.

    (HMAC secrets for CSRF and token tags are :class:`sessionward.SecretKeyRing`; this class was
    called ``KeyRing`` before 0.2, and that name still works for one release, with a warning.)
    """

    def __init__(self, keys: Iterable[SigningKey]) -> None:
        self._keys: tuple[SigningKey, ...] = tuple(keys)
        if not self._keys:
            raise ConfigurationError("a key ring needs at least one key")
        kids = [k.kid for k in self._keys]
        if len(set(kids)) != len(kids):
            raise ConfigurationError(f"duplicate kid in key ring: {kids}")
        self._by_kid = {k.kid: k for k in self._keys}

    @property
    def keys(self) -> tuple[SigningKey, ...]:
        return self._keys

    @property
    def signing_key(self) -> SigningKey:
        for key in reversed(self._keys):
            if key.can_sign:
                return key
        raise ConfigurationError("no key in the ring has a private part; it can only verify")

    def get(self, kid: str) -> SigningKey | None:
        return self._by_kid.get(kid)

    def rotate(self, new_key: SigningKey) -> SigningKeys:
        """A ring where ``new_key`` signs and every current key still verifies."""
        return SigningKeys((*self._keys, new_key))

    def retire(self, kid: str) -> SigningKeys:
        """A ring without ``kid``: tokens it signed stop verifying at once."""
        if kid not in self._by_kid:
            raise ConfigurationError(f"no key {kid!r} in the ring")
        return SigningKeys(k for k in self._keys if k.kid != kid)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The JWKS document (RFC 7517) of the public keys; HS256 secrets are left out."""
        return {"keys": [jwk for k in self._keys if (jwk := k.public_jwk()) is not None]}

    def __repr__(self) -> str:
        return f"SigningKeys({[k.kid for k in self._keys]!r}, signing={self._signing_kid()!r})"

    def _signing_kid(self) -> str | None:
        return next((k.kid for k in reversed(self._keys) if k.can_sign), None)

    # -- loading -------------------------------------------------------------------------

    @classmethod
    def from_files(cls, paths: Sequence[str | os.PathLike[str]]) -> SigningKeys:
        """PEM files, oldest first. Public-key files verify only (a retiring key's half)."""
        return cls(SigningKey.from_file(p) for p in paths)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, name: str = ENV_KEYS
    ) -> SigningKeys:
        """Keys from one environment variable: PEM blocks, or key-file paths separated by
        ``os.pathsep``; oldest first either way. A missing variable is a configuration error:
        production never falls back to a generated key."""
        env = os.environ if environ is None else environ
        value = env.get(name, "").strip()
        if not value:
            raise ConfigurationError(
                f"no signing keys: set {name} to PEM text or to key-file paths separated by "
                f"{os.pathsep!r} (generate one with SigningKeys.development() on a dev machine, or "
                "`openssl genpkey -algorithm ed25519`)"
            )
        if value.startswith("-----BEGIN"):
            blocks = [m.group(0) for m in _PEM_BLOCK.finditer(value)]
            return cls(SigningKey.from_pem(block) for block in blocks)
        return cls.from_files([p for p in value.split(os.pathsep) if p])

    @classmethod
    def development(
        cls, path: str | os.PathLike[str], algorithm: Algorithm = "EdDSA"
    ) -> SigningKeys:
        """DEVELOPMENT SWITCH: load the key at ``path``, generating it (mode 0600) if missing.

        Production code loads keys with :meth:`from_files` or :meth:`from_env`, which never
        generate; calling this is the explicit choice to accept a machine-local key.
        """
        target = Path(path)
        if not target.exists():
            key = SigningKey.generate(algorithm)
            target.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(key.private_pem())
            logger.warning(
                "sessionward: DEVELOPMENT signing key generated at %s (kid %s); production "
                "must load its keys with SigningKeys.from_files or SigningKeys.from_env",
                target,
                key.kid,
            )
        return cls.from_files([target])


if not TYPE_CHECKING:  # type checkers see only the new name, so old uses get flagged
    __getattr__ = _moved_names(__name__, {"KeyRing": ("sessionward.tokens.keys", "SigningKeys")})
