"""Shared fixtures.

Service-backed tests (Redis, PostgreSQL, Chromium) call :func:`require_service`. On a
developer machine without the service they skip with the reason; when
``SESSIONWARD_REQUIRE_SERVICES=1`` (set by ``.ci/run``) the same condition is a failure, so
nothing is silently untested in CI.
"""

from __future__ import annotations

import os

import pytest

from sessionward.testing import FakeClock

REQUIRE_SERVICES = os.environ.get("SESSIONWARD_REQUIRE_SERVICES") == "1"


def require_service(name: str, problem: str | None) -> None:
    """Skip (or, under CI, fail) when ``problem`` says the service is unusable."""
    if problem is None:
        return
    message = f"{name} unavailable: {problem}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (SESSIONWARD_REQUIRE_SERVICES=1 forbids skipping)")
    pytest.skip(message)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
