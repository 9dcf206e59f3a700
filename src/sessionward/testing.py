"""Helpers for testing apps that use sessionward."""

from __future__ import annotations


class FakeClock:
    """A clock that moves only when told to. Inject it instead of sleeping in tests."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time does not run backwards")
        self._now += seconds
