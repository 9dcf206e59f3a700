"""Old names kept for one release: a module ``__getattr__`` that warns and hands out the new one.

Internal (not public API). A module whose names moved or were renamed sets
``__getattr__ = moved_names(__name__, {old: (new_module, new_name)})`` under
``if not TYPE_CHECKING:``, so type checkers flag old uses while running code keeps working.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping


def moved_names(module: str, moved: Mapping[str, tuple[str, str]]) -> Callable[[str], object]:
    """A module ``__getattr__`` resolving each old name in ``moved`` with a DeprecationWarning."""

    def __getattr__(name: str) -> object:
        target = moved.get(name)
        if target is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        new_module, new_name = target
        warnings.warn(
            f"{module}.{name} is deprecated: use {new_module}.{new_name} (the old name goes in "
            f"the next release)",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(new_module), new_name)

    return __getattr__
