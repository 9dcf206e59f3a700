"""The stored form of a session and its JSON encoding (never pickle)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any, Literal

from ..errors import SessionDataError
from . import json_text
from .slots import slot_setters

Origin = Literal["anonymous", "login", "rotation", "renewal"]

#: Upper bound on the encoded size of one session's data, a guard against an app (or an
#: attacker steering an app) growing a session without limit.
DEFAULT_MAX_DATA_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One session as a store keeps it.

    ``key`` is SHA-256 of the token (see :mod:`sessionward.core.session_tokens`); the raw token
    is never part of a record. ``expires_at`` is the earlier of the idle and absolute deadlines,
    kept so that stores can purge and set TTLs without knowing the policy.
    """

    key: str
    handle: str
    user_id: str | None
    created_at: float
    last_seen_at: float
    expires_at: float
    authenticated_at: float | None = None
    origin: Origin = "anonymous"
    ip: str | None = None
    user_agent: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    def evolve(self, **changes: Any) -> SessionRecord:
        return replace(self, **changes)

    def with_data(self, data: Mapping[str, Any], meta: Mapping[str, Any]) -> SessionRecord:
        """This record with other ``data`` and ``meta`` (what a store's read builds)."""
        return record_of(
            self.key,
            self.handle,
            self.user_id,
            self.created_at,
            self.last_seen_at,
            self.expires_at,
            self.authenticated_at,
            self.origin,
            self.ip,
            self.user_agent,
            data,
            meta,
        )


_new = object.__new__
(
    _set_key,
    _set_handle,
    _set_user_id,
    _set_created_at,
    _set_last_seen_at,
    _set_expires_at,
    _set_authenticated_at,
    _set_origin,
    _set_ip,
    _set_user_agent,
    _set_data,
    _set_meta,
) = slot_setters(SessionRecord)


def record_of(
    key: str,
    handle: str,
    user_id: str | None,
    created_at: float,
    last_seen_at: float,
    expires_at: float,
    authenticated_at: float | None,
    origin: Origin,
    ip: str | None,
    user_agent: str | None,
    data: Mapping[str, Any],
    meta: Mapping[str, Any],
) -> SessionRecord:
    """``SessionRecord(...)`` with every field given in order, built as :mod:`.slots` says:
    stores build one on every read and write."""
    record: SessionRecord = _new(SessionRecord)
    _set_key(record, key)
    _set_handle(record, handle)
    _set_user_id(record, user_id)
    _set_created_at(record, created_at)
    _set_last_seen_at(record, last_seen_at)
    _set_expires_at(record, expires_at)
    _set_authenticated_at(record, authenticated_at)
    _set_origin(record, origin)
    _set_ip(record, ip)
    _set_user_agent(record, user_agent)
    _set_data(record, data)
    _set_meta(record, meta)
    return record


# Built once: json.dumps with options builds a new encoder on every call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


# The C encoder ``JSONEncoder.iterencode`` builds for a one-shot call, with the same settings,
# built once and without its ``markers`` dict: a circular value then ends in RecursionError
# (refused below like any other value JSON cannot keep) instead of a ValueError.
_C_ENCODER = (
    None
    if c_make_encoder is None  # an interpreter without the C accelerator
    else c_make_encoder(
        None,
        _ENCODER.default,
        encode_basestring,
        _ENCODER.indent,
        _ENCODER.key_separator,
        _ENCODER.item_separator,
        _ENCODER.sort_keys,
        _ENCODER.skipkeys,
        _ENCODER.allow_nan,
    )
)


def _encode(data: Mapping[str, Any]) -> str:
    """``_ENCODER.encode(data)`` for a mapping, without its two Python-level layers."""
    if _C_ENCODER is None:
        return _ENCODER.encode(data)
    return "".join(_C_ENCODER(data, 0))


def encode_data(data: Mapping[str, Any], *, max_bytes: int = DEFAULT_MAX_DATA_BYTES) -> str:
    """Encode session data as compact JSON, refusing what cannot round-trip or is too big."""
    try:
        text = _encode(data)
    except (TypeError, ValueError, RecursionError) as exc:
        raise SessionDataError(
            f"session data must be JSON-serialisable (str keys; str, int, float, bool, None, "
            f"list, dict values): {exc}"
        ) from exc
    if text.isascii():  # the common case: one byte per character, nothing to encode
        size = len(text)
    else:
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError as exc:  # a lone surrogate: no store can keep it as UTF-8
            raise SessionDataError(
                f"session data holds text that is not valid Unicode: {exc.reason}"
            ) from exc
    if size > max_bytes:
        raise SessionDataError(
            f"session data is larger than {max_bytes} bytes; keep large state in your own "
            f"tables and store a reference in the session"
        )
    return text


def encode_value(value: Any) -> str:
    """Encode one session value (used by stores that merge per key)."""
    return encode_data({"v": value})[5:-1]


def decode_data(text: str | bytes) -> dict[str, Any]:
    loaded = json_text.loads(text)
    if not isinstance(loaded, dict):
        raise SessionDataError("stored session data is not a JSON object")
    return loaded
