"""Session values and their JSON form: checked at assignment, optionally tagged (never pickle).

A session stores JSON. Two codecs turn what the application assigns into that JSON:

- ``"json"`` (the default) accepts exactly what JSON keeps as it is: ``str`` keys; ``str``,
  ``int``, ``float`` (finite), ``bool``, ``None``, ``list`` and ``dict`` values. Anything else
  (a ``tuple`` that would come back as a list, a ``datetime``, ``Markup`` that would come back as
  a plain ``str``, an ``int`` dict key that would come back as a ``str``) raises ``TypeError``
  at the assignment, naming the key, instead of failing at save time or changing silently.
- ``"tagged"`` also keeps ``tuple``, ``bytes``, ``datetime``, ``date``, ``time``, ``UUID``,
  ``Decimal`` and ``markupsafe.Markup`` exactly, by writing them as small tagged objects
  (``{"$sw": "uuid", "v": "..."}``). A dict of the application's that happens to contain the
  tag key is itself wrapped, so no stored value can be mistaken for a tag.

Both produce plain JSON values, so every store keeps storing JSON text. Decoding is pure data
conversion: a tag names one of the fixed types above, never a class to import.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, Literal
from uuid import UUID

CodecName = Literal["json", "tagged"]
TAG = "$sw"
_SCALARS = (str, int, float, bool, type(None))
#: What every codec stores as it is, with nothing to check (floats must be finite).
_AS_IS = frozenset({str, int, bool, type(None)})


def _where(path: str) -> str:
    return path


def _check_json(value: Any, path: str) -> None:
    kind = type(value)
    if kind is float and not math.isfinite(value):
        raise TypeError(f"{_where(path)} is {value!r}; JSON has no NaN or infinity")
    if kind in _SCALARS:
        return
    if kind is list:
        for i, item in enumerate(value):
            _check_json(item, f"{path}[{i}]")
        return
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise TypeError(
                    f"{_where(path)} has the key {key!r} ({type(key).__name__}); session dict "
                    f"keys must be str (JSON would turn it into a string)"
                )
            _check_json(item, f"{path}[{key!r}]")
        return
    raise TypeError(
        f"{_where(path)} is a {kind.__name__}, which JSON cannot keep as it is; store str, int, "
        f"float, bool, None, list or dict, or use SessionPolicy(codec='tagged') for tuple, "
        f"bytes, datetime, date, time, UUID, Decimal and Markup"
    )


def _markup_type() -> type | None:
    try:
        from markupsafe import Markup
    except ImportError:  # pragma: no cover - markupsafe comes with Flask and Jinja
        return None
    return Markup


def _tag(name: str, payload: Any) -> dict[str, Any]:
    return {TAG: name, "v": payload}


def _encode_tagged(value: Any, path: str) -> Any:
    kind = type(value)
    if kind is float and not math.isfinite(value):
        raise TypeError(f"{_where(path)} is {value!r}; JSON has no NaN or infinity")
    if kind in _SCALARS:
        return value
    if kind is list:
        return [_encode_tagged(item, f"{path}[{i}]") for i, item in enumerate(value)]
    if kind is tuple:
        return _tag("tuple", [_encode_tagged(item, f"{path}[{i}]") for i, item in enumerate(value)])
    if kind is dict:
        out: dict[str, Any] = {}
        for key, item in value.items():
            if type(key) is not str:
                raise TypeError(
                    f"{_where(path)} has the key {key!r} ({type(key).__name__}); session dict "
                    f"keys must be str"
                )
            out[key] = _encode_tagged(item, f"{path}[{key!r}]")
        return _tag("dict", out) if TAG in out else out
    if kind is bytes:
        return _tag("bytes", base64.b64encode(value).decode("ascii"))
    if kind is datetime:
        return _tag("datetime", value.isoformat())
    if kind is date:
        return _tag("date", value.isoformat())
    if kind is time:
        return _tag("time", value.isoformat())
    if kind is UUID:
        return _tag("uuid", str(value))
    if kind is Decimal:
        return _tag("decimal", str(value))
    markup = _markup_type()
    if markup is not None and kind is markup:
        return _tag("markup", str(value))
    raise TypeError(
        f"{_where(path)} is a {kind.__name__}, which the tagged codec does not keep; it keeps "
        f"str, int, float, bool, None, list, dict, tuple, bytes, datetime, date, time, UUID, "
        f"Decimal and Markup"
    )


def _decode_markup(text: str) -> Any:
    markup = _markup_type()
    return text if markup is None else markup(text)


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "bytes": lambda v: base64.b64decode(v, validate=True),
    "datetime": datetime.fromisoformat,
    "date": date.fromisoformat,
    "time": time.fromisoformat,
    "uuid": UUID,
    "decimal": Decimal,
    "markup": _decode_markup,
}


def _decode_tagged(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode_tagged(item) for item in value]
    if not isinstance(value, dict):
        return value
    tag = value.get(TAG)
    if tag is None:
        return {k: _decode_tagged(v) for k, v in value.items()}
    payload = value.get("v")
    if tag == "tuple" and isinstance(payload, list):
        return tuple(_decode_tagged(item) for item in payload)
    if tag == "dict" and isinstance(payload, dict):
        return {k: _decode_tagged(v) for k, v in payload.items()}
    decoder = _DECODERS.get(tag) if isinstance(tag, str) else None
    if decoder is not None and isinstance(payload, str):
        try:
            return decoder(payload)
        except (ValueError, TypeError, InvalidOperation):
            pass
    # Not something this codec wrote (data from before the codec was switched on, or damaged):
    # hand it over as the plain JSON it is rather than fail the request.
    return value


class Codec:
    """Checks values at assignment and converts them to and from their stored JSON form."""

    def __init__(self, name: CodecName) -> None:
        if name not in ("json", "tagged"):
            raise ValueError("codec must be 'json' or 'tagged'")
        self.name: CodecName = name

    def encode(self, key: str, value: Any) -> Any:
        """The JSON form of ``value`` stored under ``key``; ``TypeError`` names what cannot be."""
        if type(value) in _AS_IS:
            return value  # the common case, the same in both codecs
        if self.name == "tagged":
            return _encode_tagged(value, f"session[{key!r}]")
        _check_json(value, f"session[{key!r}]")
        return value

    def encode_values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """A new dict of ``values`` in their stored form (``encode`` of each, inlined where
        the value is stored as it is: this runs over the whole session on a write)."""
        encode = self.encode
        return {k: v if type(v) in _AS_IS else encode(k, v) for k, v in values.items()}

    def decode(self, value: Any) -> Any:
        """The application's value from its stored JSON form."""
        return _decode_tagged(value) if self.name == "tagged" else value

    def decode_values(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        """A new dict of the application's values from a session's stored data."""
        data = dict(stored)
        if self.name == "tagged":
            for key, value in data.items():
                if isinstance(value, (dict, list)):  # only these can hold a tag
                    data[key] = _decode_tagged(value)
        return data

    def __repr__(self) -> str:
        return f"Codec({self.name!r})"


JSON_CODEC = Codec("json")
TAGGED_CODEC = Codec("tagged")


CODECS: dict[str, Codec] = {"json": JSON_CODEC, "tagged": TAGGED_CODEC}


def codec_named(name: CodecName) -> Codec:
    return CODECS[name]
