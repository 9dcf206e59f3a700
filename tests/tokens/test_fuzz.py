"""Whatever a client sends, the verifier and the refresh flow answer with a TokenError (a 401),
never another exception (a 500)."""

from __future__ import annotations

import base64
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from sessionward.tokens import InvalidGrant, InvalidToken

from .helpers import CLIENT, World

WORLD = World()
PAIR = WORLD.tokens.login("alice", CLIENT)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _refused(token: str) -> None:
    try:
        WORLD.tokens.verify(token, CLIENT)
    except InvalidToken:
        return
    raise AssertionError(f"accepted {token!r}")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_is_refused_cleanly(text: str) -> None:
    _refused(text)


@settings(max_examples=300, deadline=None)
@given(_json, _json, st.binary(max_size=80))
def test_arbitrary_json_segments_are_refused_cleanly(
    header: object, claims: object, sig: bytes
) -> None:
    token = ".".join(
        (_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()), _b64(sig) or "A")
    )
    _refused(token)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(PAIR.access_token) - 1), st.characters())
def test_single_character_changes_are_refused(position: int, char: str) -> None:
    token = PAIR.access_token
    changed = token[:position] + char + token[position + 1 :]
    if changed != token:
        _refused(changed)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_arbitrary_refresh_tokens_are_refused_cleanly(text: str) -> None:
    try:
        WORLD.tokens.refresh(text, CLIENT)
    except InvalidGrant:
        return
    raise AssertionError(f"refreshed with {text!r}")
