"""Deprecated: the store factory moved to :mod:`sessionward.store_urls`. This path keeps working
for one release."""

from __future__ import annotations

import warnings

from .store_urls import (
    Backend,
    backend_of,
    open_async_store,
    open_audit_log,
    open_store,
    sqlite_path,
)

__all__ = [
    "Backend",
    "backend_of",
    "open_async_store",
    "open_audit_log",
    "open_store",
    "sqlite_path",
]

warnings.warn(
    "sessionward.urls is deprecated; import from sessionward.store_urls",
    DeprecationWarning,
    stacklevel=2,
)
