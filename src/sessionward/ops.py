"""Deprecated: the store-call type moved to :mod:`sessionward.calls` (``Op`` is now
:class:`~sessionward.calls.StoreCall`). This path keeps working for one release."""

from __future__ import annotations

import warnings

from .calls import Flow, StoreCall, drive, drive_async

warnings.warn(
    "sessionward.ops is deprecated; import StoreCall, Flow, drive and drive_async from "
    "sessionward.calls (Op is now StoreCall)",
    DeprecationWarning,
    stacklevel=2,
)

Op = StoreCall

__all__ = ["Flow", "Op", "StoreCall", "drive", "drive_async"]
