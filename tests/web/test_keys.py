"""The secret key ring: newest signs, all verify, secrets never show."""

from __future__ import annotations

import pickle

import pytest

from sessionward import ConfigurationError, Secret, SecretKeyRing

OLD = "o" * 32
NEW = "n" * 32


def test_secret_repr_and_str_are_masked() -> None:
    secret = Secret("s3cr3t-" * 6)
    assert repr(secret) == str(secret) == "Secret('***')"
    assert "s3cr3t" not in f"{secret!r} {secret}"
    assert "o" * 32 not in repr(SecretKeyRing([OLD]))


def test_secret_cannot_be_pickled() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(Secret(OLD))


@pytest.mark.parametrize("bad", ["short", b"x" * 31, "", 42])
def test_short_or_wrong_secrets_are_configuration_errors_with_the_fix(bad: object) -> None:
    with pytest.raises(ConfigurationError, match="secret"):
        Secret(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [[], "x" * 40, [OLD, OLD]])
def test_bad_rings_are_configuration_errors(bad: object) -> None:
    with pytest.raises(ConfigurationError):
        SecretKeyRing(bad)  # type: ignore[arg-type]


def test_short_secret_message_says_how_to_generate_one() -> None:
    with pytest.raises(ConfigurationError, match=r"secrets\.token_urlsafe"):
        SecretKeyRing(["short"])


def test_newest_signs_and_every_key_verifies() -> None:
    old_ring = SecretKeyRing([OLD])
    signed_before_rotation = old_ring.sign(b"message", purpose="p")
    rotated = SecretKeyRing([OLD, NEW])
    assert rotated.verify(b"message", signed_before_rotation, purpose="p")
    assert rotated.sign(b"message", purpose="p") == SecretKeyRing([NEW]).sign(
        b"message", purpose="p"
    )
    retired = SecretKeyRing([NEW])
    assert not retired.verify(b"message", signed_before_rotation, purpose="p")


def test_purposes_are_separated() -> None:
    ring = SecretKeyRing([OLD])
    mac = ring.sign(b"m", purpose="csrf")
    assert ring.verify(b"m", mac, purpose="csrf")
    assert not ring.verify(b"m", mac, purpose="csrf-presession")


@pytest.mark.parametrize("bad", [b"", b"\x00" * 32, "text-not-bytes", None, b"\xff" * 4096])
def test_verify_is_false_never_an_error_for_junk(bad: object) -> None:
    assert SecretKeyRing([OLD]).verify(b"m", bad, purpose="p") is False  # type: ignore[arg-type]


def test_generated_rings_differ_and_accept_bytes_secrets() -> None:
    a, b = SecretKeyRing.generate(), SecretKeyRing.generate()
    assert a.sign(b"m", purpose="p") != b.sign(b"m", purpose="p")
    assert len(SecretKeyRing([b"\xff" * 32, Secret(NEW)])) == 2
