from __future__ import annotations

import base64
import hashlib

from hypothesis import given
from hypothesis import strategies as st

from sessionward.core.session_tokens import (
    is_well_formed_handle,
    is_well_formed_token,
    new_handle,
    new_token,
    token_key,
)


def test_tokens_carry_256_random_bits() -> None:
    token = new_token()
    assert len(token) == 43
    assert len(base64.urlsafe_b64decode(token + "=")) == 32
    assert len({new_token() for _ in range(2000)}) == 2000


def test_store_key_is_sha256_of_the_token_and_not_the_token() -> None:
    token = new_token()
    key = token_key(token)
    assert key == hashlib.sha256(token.encode()).hexdigest()
    assert token not in key


def test_handles_are_unrelated_to_tokens() -> None:
    handle = new_handle()
    assert is_well_formed_handle(handle)
    assert not is_well_formed_token(handle)
    assert len({new_handle() for _ in range(2000)}) == 2000


def test_only_exact_token_shapes_are_well_formed() -> None:
    token = new_token()
    assert is_well_formed_token(token)
    for bad in ("", token[:-1], token + "A", token[:-1] + "=", token[:-1] + "é", " " + token[1:]):
        assert not is_well_formed_token(bad)


@given(st.text(max_size=100))
def test_arbitrary_text_never_raises(value: str) -> None:
    is_well_formed_token(value)
