"""Deprecated: session tokens moved to :mod:`sessionward.core.session_tokens` (the name
``tokens`` belongs to the JWT package :mod:`sessionward.tokens`). This path keeps working for one
release."""

from __future__ import annotations

import warnings

from .session_tokens import (
    HANDLE_BYTES,
    TAG_BYTES,
    TAG_LENGTH,
    TAG_PURPOSE,
    TAGGED_LENGTH,
    TOKEN_BYTES,
    TOKEN_LENGTH,
    Tag,
    check_tag,
    is_well_formed_handle,
    is_well_formed_token,
    new_handle,
    new_token,
    random_part,
    session_key,
    tag_token,
    token_key,
)

__all__ = [
    "HANDLE_BYTES",
    "TAGGED_LENGTH",
    "TAG_BYTES",
    "TAG_LENGTH",
    "TAG_PURPOSE",
    "TOKEN_BYTES",
    "TOKEN_LENGTH",
    "Tag",
    "check_tag",
    "is_well_formed_handle",
    "is_well_formed_token",
    "new_handle",
    "new_token",
    "random_part",
    "session_key",
    "tag_token",
    "token_key",
]

warnings.warn(
    "sessionward.core.tokens is deprecated; import from sessionward.core.session_tokens",
    DeprecationWarning,
    stacklevel=2,
)
