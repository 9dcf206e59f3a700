"""The sessionward demo application (install with ``pip install 'sessionward[demo]'``).

It shows the seed's login and logout flows, an "active sessions" page and, in later releases,
a token API, using only sessionward's public API: it is meant to be copied.
"""

from __future__ import annotations

try:
    import jinja2  # noqa: F401
    import starlette  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "the sessionward demo needs its extra: pip install 'sessionward[demo]'"
    ) from exc

from .app import create_app
from .config import DemoConfig

__all__ = ["DemoConfig", "create_app"]
