"""Store calls as data, and the drivers that perform them.

The session and token flows never perform I/O: they yield a :class:`StoreCall` ("call this
method of this backend with these arguments") and receive its result. :func:`drive` performs
the calls against a synchronous store, :func:`drive_async` against an async one, so one flow
serves both twins.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple, TypeVar

T = TypeVar("T")
_NO_KWARGS: Mapping[str, Any] = MappingProxyType({})


class StoreCall(NamedTuple):
    """One call a flow asks its driver to make (immutable; a tuple, cheap to build).

    ``target`` names the backend the driver sends it to: ``"store"`` (the session store) unless
    the flow says otherwise (``"counters"`` for the guessing guard's counters).
    """

    method: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = _NO_KWARGS
    target: str = "store"


Flow = Generator[StoreCall, Any, T]
CallT = TypeVar("CallT")


def drive(flow: Generator[CallT, Any, T], call: Callable[[CallT], Any]) -> T:
    """Run a flow to completion, performing each call it yields with ``call``.

    An exception from ``call`` is thrown into the flow, which may handle it (a session limit
    that emits an event) or let it propagate.
    """
    try:
        request = next(flow)
        while True:
            try:
                result = call(request)
            except Exception as exc:
                request = flow.throw(exc)
            else:
                request = flow.send(result)
    except StopIteration as done:
        value: T = done.value
        return value


async def drive_async(flow: Generator[CallT, Any, T], call: Callable[[CallT], Awaitable[Any]]) -> T:
    """The asynchronous twin of :func:`drive`: ``call`` returns an awaitable."""
    try:
        request = next(flow)
        while True:
            try:
                result = await call(request)
            except Exception as exc:
                request = flow.throw(exc)
            else:
                request = flow.send(result)
    except StopIteration as done:
        value: T = done.value
        return value
