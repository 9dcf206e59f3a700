"""Copied next to Flask's own tests at test time: installs sessionward the documented way.

Flask's ``app`` fixture is wrapped (see ``test_flask_peer.py``): the app Flask's tests build gets
``Sessionward(app, manager)`` over a memory store, with the tagged codec (Flask's own session
keeps tuples, bytes, datetimes, UUIDs and Markup, and its tests expect that) and
``touch_interval=0`` (``SESSION_REFRESH_EACH_REQUEST`` refreshes at most once per touch
interval; Flask's tests expect every request).
"""

from __future__ import annotations

from typing import Any

from sessionward import SessionManager, SessionPolicy
from sessionward.integrations.flask import Sessionward
from sessionward.stores.memory import MemoryStore


def install(app: Any) -> Any:
    manager = SessionManager(
        MemoryStore(), sinks=[], policy=SessionPolicy(codec="tagged", touch_interval=0)
    )
    Sessionward(app, manager)
    return app
