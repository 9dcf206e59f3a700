"""A read-only request on an existing session costs one store call (one round trip)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from contract.stores import FACTORIES
from sessionward import ClientInfo, SessionManager, SessionPolicy
from sessionward.testing import FakeClock

CLIENT = ClientInfo.from_raw("192.0.2.1", "Firefox/130")


class Counting:
    def __init__(self, store: Any) -> None:
        self.store = store
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.store, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return method(*args, **kwargs)

        return call


@pytest.mark.parametrize("kind", ["memory", "sqlite", "redis", "postgres"])
def test_read_only_request_is_one_store_call(kind: str, tmp_path: Path, clock: FakeClock) -> None:
    store = Counting(FACTORIES[kind](tmp_path))
    manager = SessionManager(store, policy=SessionPolicy(touch_interval=60), clock=clock, sinks=())
    try:
        session = manager.load(None, CLIENT)
        session.login("alice")
        session["cart"] = [1]
        token = session.token
        manager.commit(session)
        clock.advance(30)  # inside the touch interval: nothing to write
        store.calls.clear()
        session = manager.load(f"__Host-session={token}", CLIENT)
        assert session.user_id == "alice" and session["cart"] == [1]
        manager.commit(session)
        assert store.calls == ["get"]
    finally:
        store.delete_all()
        store.close()
