"""Building frozen, slotted dataclasses on the hot path.

A frozen dataclass's ``__init__`` assigns each field through ``object.__setattr__`` (plain
assignment is what ``frozen`` forbids), looked up and called once per field. Calling each slot's
own setter builds the identical object for about half the cost. The few values sessionward
builds on every request (the request view, the cookie lookup, records, updates) use a builder
written with :func:`slot_setters`. Such a builder skips ``__post_init__``: it must do that
method's work itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

Setter = Callable[[Any, Any], None]


def slot_setters(cls: type) -> tuple[Setter, ...]:
    """The setters of ``cls``'s fields, in declaration order."""
    if "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__} is not a slotted dataclass")
    return tuple(cls.__dict__[f.name].__set__ for f in fields(cls))
