"""Reading stored JSON text: msgspec's decoder when it is installed, the standard library's
otherwise, with the same answer either way.

``pip install 'sessionward[speedups]'`` adds msgspec, whose decoder reads a session record about
four to five times faster than ``json.loads`` (docs/benchmarks.md). Only reading uses it:
sessions are still written by the standard library's encoder, so the stored text is the same
byte for byte with or without the extra (msgspec would write some floats differently, ``1e16``
for ``1e+16``). Text msgspec refuses but ``json.loads`` reads (a lone surrogate escape, ``NaN``,
a number too large for a float) is handed to ``json.loads``: the extra changes the speed, never
the result.
"""

from __future__ import annotations

import json
from typing import Any

try:
    import msgspec
except ImportError:  # the extra is not installed: the standard library alone
    msgspec = None  # type: ignore[assignment]

_DECODER = None if msgspec is None else msgspec.json.Decoder()


def loads(text: str | bytes) -> Any:
    """The value of one JSON text, exactly as ``json.loads`` gives it."""
    if _DECODER is not None:
        try:
            return _DECODER.decode(text)
        except msgspec.DecodeError:
            pass  # json.loads decides: it reads some text msgspec refuses, or raises itself
    return json.loads(text)
