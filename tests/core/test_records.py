"""Encoding session data: what no store could keep, and the size limit in UTF-8 bytes."""

from __future__ import annotations

import pytest

from sessionward.core.records import encode_data
from sessionward.errors import SessionDataError


def test_text_no_store_can_keep_is_refused_when_encoded() -> None:
    with pytest.raises(SessionDataError, match="not valid Unicode"):
        encode_data({"v": "\ud800"})
    assert encode_data({"v": "caf\u00e9"}, max_bytes=13) == '{"v":"café"}'  # 13 UTF-8 bytes
    with pytest.raises(SessionDataError, match="larger than 12 bytes"):
        encode_data({"v": "caf\u00e9"}, max_bytes=12)
