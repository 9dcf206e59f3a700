"""Keys: one algorithm per key, rotation, JWKS, loading, and no silent generation."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

from sessionward import ConfigurationError
from sessionward.testing import FakeClock
from sessionward.tokens import AccessTokens, InvalidToken, SigningKey, SigningKeys

from .helpers import SETTINGS


def test_newest_key_signs_old_keys_verify_until_retired(clock: FakeClock) -> None:
    old = SigningKey.generate("EdDSA", kid="2026-01")
    ring = SigningKeys([old])
    token = AccessTokens(ring, SETTINGS, clock).issue(subject="alice", session="s" * 22).token
    new = SigningKey.generate("ES256", kid="2026-02")
    rotated = ring.rotate(new)
    assert rotated.signing_key is new
    fresh = AccessTokens(rotated, SETTINGS, clock)
    assert fresh.verify(token).kid == "2026-01"
    assert fresh.verify(fresh.issue(subject="alice", session="s" * 22).token).kid == "2026-02"
    retired = AccessTokens(rotated.retire("2026-01"), SETTINGS, clock)
    with pytest.raises(InvalidToken) as caught:
        retired.verify(token)
    assert caught.value.reason == "kid"


def test_jwks_lists_public_keys_only() -> None:
    ring = SigningKeys(
        [
            SigningKey.generate("EdDSA", kid="ed"),
            SigningKey.generate("ES256", kid="es"),
            SigningKey.hmac(os.urandom(32), kid="hs"),
        ]
    )
    jwks = ring.jwks()
    assert [k["kid"] for k in jwks["keys"]] == ["ed", "es"]
    assert jwks["keys"][0] == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": jwks["keys"][0]["x"],
        "kid": "ed",
        "alg": "EdDSA",
        "use": "sig",
    }
    assert jwks["keys"][1]["kty"] == "EC" and jwks["keys"][1]["crv"] == "P-256"
    assert all("d" not in k for k in jwks["keys"])
    # A JWKS entry round-trips into a verify-only key with the same thumbprint.
    back = SigningKey.from_jwk(jwks["keys"][1])
    assert not back.can_sign and back.kid == "es"
    assert back.thumbprint() == ring.get("es").thumbprint()  # type: ignore[union-attr]


def test_default_kid_is_the_rfc7638_thumbprint() -> None:
    # RFC 8037 appendix A.3: the thumbprint of the Ed25519 example key.
    key = SigningKey.from_jwk(
        {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    )
    assert key.kid == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_hs256_needs_32_bytes_and_a_kid() -> None:
    with pytest.raises(ConfigurationError, match="32"):
        SigningKey.hmac(b"x" * 31, kid="short")
    with pytest.raises(ConfigurationError, match="kid"):
        SigningKey(algorithm="HS256", secret=os.urandom(32))
    assert SigningKey.hmac(os.urandom(32), kid="ok").algorithm == "HS256"


def test_one_algorithm_per_key() -> None:
    ed = SigningKey.generate("EdDSA")
    with pytest.raises(ConfigurationError, match="one algorithm per key"):
        SigningKey(algorithm="ES256", private=ed.signing_material)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        SigningKey(algorithm="RS256", private=ed.signing_material)  # type: ignore[arg-type]


def test_repr_never_shows_key_material() -> None:
    key = SigningKey.hmac(b"s3cr3t-" * 8, kid="h")
    assert "s3cr3t" not in repr(key) and "***" in repr(key)
    assert "s3cr3t" not in repr(SigningKeys([key]))


def test_load_from_files_and_environment(tmp_path: Path) -> None:
    old, new = SigningKey.generate("EdDSA"), SigningKey.generate("ES256")
    (tmp_path / "old.pem").write_bytes(old.private_pem())
    (tmp_path / "new.pem").write_bytes(new.private_pem())
    by_files = SigningKeys.from_env(
        {"SESSIONWARD_JWT_KEYS": f"{tmp_path / 'old.pem'}{os.pathsep}{tmp_path / 'new.pem'}"}
    )
    assert [k.kid for k in by_files.keys] == [old.kid, new.kid]
    assert by_files.signing_key.kid == new.kid
    pem_text = (old.private_pem() + new.private_pem()).decode()
    by_pem = SigningKeys.from_env({"SESSIONWARD_JWT_KEYS": pem_text})
    assert [k.kid for k in by_pem.keys] == [old.kid, new.kid]


def test_production_loading_never_generates_a_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="SESSIONWARD_JWT_KEYS"):
        SigningKeys.from_env({})
    with pytest.raises(ConfigurationError, match="cannot read"):
        SigningKeys.from_files([tmp_path / "missing.pem"])
    assert list(tmp_path.iterdir()) == []


def test_development_switch_generates_once_with_0600_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "state" / "jwt.pem"
    with caplog.at_level(logging.WARNING, logger="sessionward"):
        first = SigningKeys.development(path)
    assert "DEVELOPMENT signing key generated" in caplog.text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="sessionward"):
        second = SigningKeys.development(path)
    assert caplog.text == ""
    assert first.signing_key.kid == second.signing_key.kid


def test_verify_only_ring_cannot_sign(clock: FakeClock) -> None:
    public = SigningKey.from_jwk(SigningKey.generate("EdDSA").public_jwk() or {})
    with pytest.raises(ConfigurationError, match="only verify"):
        AccessTokens(SigningKeys([public]), SETTINGS, clock).issue(subject="a", session="b")
