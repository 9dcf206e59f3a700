"""Fixtures of the framework tests (Django's are imported only when a Django test asks)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def site() -> Iterator[Any]:
    """The example Django project with a fresh manager and the user "alice"."""
    from .django_helpers import example_site

    with example_site() as example:
        yield example
