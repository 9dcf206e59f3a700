"""Encoding session data: what no store could keep, and the size limit in UTF-8 bytes."""

from __future__ import annotations

import json

import pytest

from sessionward.core.records import encode_data
from sessionward.errors import SessionDataError


def test_text_no_store_can_keep_is_refused_when_encoded() -> None:
    with pytest.raises(SessionDataError, match="not valid Unicode"):
        encode_data({"v": "\ud800"})
    assert encode_data({"v": "caf\u00e9"}, max_bytes=13) == '{"v":"café"}'  # 13 UTF-8 bytes
    with pytest.raises(SessionDataError, match="larger than 12 bytes"):
        encode_data({"v": "caf\u00e9"}, max_bytes=12)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"user": "alice", "n": 5, "ok": True, "none": None},
        {"f": 1.5, "big": 1e16, "tiny": 5e-324, "neg": -0.0, "int": 10**30},
        {"nested": {"a": [1, {"b": "c"}], "é": '\u2028 \x00 "q" \\\\'}},
        {"list": [[], {}, [[1]]]},
    ],
)
def test_encoding_is_the_standard_librarys_compact_json(data: dict[str, object]) -> None:
    expected = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    assert encode_data(data) == expected


def test_what_json_cannot_keep_is_refused_each_time() -> None:
    loop: list[object] = []
    loop.append(loop)
    for bad in ({"v": float("nan")}, {"v": {1, 2}}, {"v": loop}, {"v": float("inf")}):
        for _ in range(2):  # a failed encoding leaves nothing behind for the next one
            with pytest.raises(SessionDataError):
                encode_data(bad)
    shared = [1]
    assert encode_data({"a": shared, "b": shared}) == '{"a":[1],"b":[1]}'
