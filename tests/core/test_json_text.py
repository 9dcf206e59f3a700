"""Stored JSON reads the same with the speedups extra (msgspec) as with the standard library."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionward.core import json_text
from sessionward.core.records import decode_data, encode_data

pytest.importorskip("msgspec", reason="the speedups extra (msgspec) is part of [dev]")

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**90), max_value=2**90)  # beyond 64 bits too
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
values = st.recursive(
    scalars, lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=25
)


def same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (1 and 1.0, True and 1 differ)."""
    return repr(a) == repr(b)


@given(values)
def test_a_stored_value_reads_back_as_the_standard_library_reads_it(value: Any) -> None:
    text = encode_data({"v": value}, max_bytes=1 << 30)
    assert same(json_text.loads(text), json.loads(text))
    assert same(json_text.loads(text.encode("utf-8")), json.loads(text))


@pytest.mark.parametrize(
    "text",
    [
        '{"n": 123456789012345678901234567890}',  # msgspec keeps it an int; orjson would not
        '"\\ud800"',  # a lone surrogate escape: msgspec refuses, json.loads reads it
        "NaN",
        "1E400",
        '{"a": 1, "a": 2}',
        "-0.0",
    ],
)
def test_text_msgspec_refuses_or_reads_differently_gets_the_standard_answer(text: str) -> None:
    assert same(json_text.loads(text), json.loads(text))


def test_invalid_text_still_raises() -> None:
    with pytest.raises(json.JSONDecodeError):
        json_text.loads("{not json")


def test_the_stored_form_does_not_depend_on_the_extra() -> None:
    # Only reading uses msgspec: this is the standard library's spelling of the float.
    assert encode_data({"f": 1.5e-07, "g": 1e16}) == '{"f":1.5e-07,"g":1e+16}'
    assert decode_data('{"f":1.5e-07}') == {"f": 1.5e-07}


def test_without_msgspec_the_standard_library_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_text, "_DECODER", None)
    assert same(json_text.loads('{"n": 2.5, "s": "\\u00e9"}'), {"n": 2.5, "s": "é"})
