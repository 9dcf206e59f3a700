"""Event sinks that ship with sessionward."""

from __future__ import annotations

import json
import logging

from .core.events import Event


class LoggingSink:
    """Writes each event as one JSON line to the ``sessionward.audit`` logger (level INFO).

    Called inline, also on an event loop (``inline = True``): give the logger handlers that do
    not block, or wrap them in a :class:`logging.handlers.QueueHandler`.
    """

    inline = True

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger("sessionward.audit")

    def __call__(self, event: Event) -> None:
        if self.logger.isEnabledFor(logging.INFO):
            self.logger.info(json.dumps(event.as_dict(), separators=(",", ":"), default=str))


class MemorySink:
    """Keeps events in a list; handy in tests and for showing recent activity."""

    #: Memory only: called inline, never queued (see :mod:`sessionward.sink_dispatch`).
    inline = True

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def kinds(self) -> list[str]:
        return [e.kind.value for e in self.events]
