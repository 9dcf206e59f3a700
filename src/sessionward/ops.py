"""Store calls as data, and the drivers that perform them.

The session and token flows never perform I/O: they yield an :class:`Op` ("call this store
method with these arguments") and receive its result. :func:`drive` performs the calls against
a synchronous store, :func:`drive_async` against an async one, so one flow serves both twins.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Op:
    """One store call a flow asks its driver to make."""

    method: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)


Flow = Generator[Op, Any, T]
OpT = TypeVar("OpT")


def drive(flow: Generator[OpT, Any, T], call: Callable[[OpT], Any]) -> T:
    """Run a flow to completion, performing each call it yields with ``call``.

    An exception from ``call`` is thrown into the flow, which may handle it (a session limit
    that emits an event) or let it propagate.
    """
    try:
        op = next(flow)
        while True:
            try:
                result = call(op)
            except Exception as exc:
                op = flow.throw(exc)
            else:
                op = flow.send(result)
    except StopIteration as done:
        value: T = done.value
        return value


async def drive_async(flow: Generator[OpT, Any, T], call: Callable[[OpT], Awaitable[Any]]) -> T:
    """The asynchronous twin of :func:`drive`: ``call`` returns an awaitable."""
    try:
        op = next(flow)
        while True:
            try:
                result = await call(op)
            except Exception as exc:
                op = flow.throw(exc)
            else:
                op = flow.send(result)
    except StopIteration as done:
        value: T = done.value
        return value
