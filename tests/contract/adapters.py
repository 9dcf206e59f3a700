"""Run async stores through the synchronous contract suite.

``Blocking`` wraps an AsyncStore and runs each call to completion on a private event loop,
so one behavioural suite covers every implementation, sync and async alike.
"""

from __future__ import annotations

import asyncio
from typing import Any


class Blocking:
    def __init__(self, store: Any) -> None:
        self._store = store
        self._runner = asyncio.Runner()
        self.placement = getattr(store, "placement", None)  # a wrapper passes it on

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._store, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._runner.run(method(*args, **kwargs))

        return call

    def close(self) -> None:
        try:
            self._runner.run(self._store.close())
        finally:
            self._runner.close()
