"""Deprecated: the flows' observer moved to :mod:`sessionward.observer` (``Monitor`` is now
:class:`~sessionward.observer.Observer`, a collaborator rather than a base class). This path
keeps working for one release."""

from __future__ import annotations

import warnings

from .observer import COUNTERS, Observer

warnings.warn(
    "sessionward.monitor is deprecated; import Observer from sessionward.observer "
    "(Monitor is now Observer)",
    DeprecationWarning,
    stacklevel=2,
)

Monitor = Observer

__all__ = ["COUNTERS", "Monitor", "Observer"]
