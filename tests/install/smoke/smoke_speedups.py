"""[speedups]: msgspec reads stored sessions, with the standard library's answers."""

from __future__ import annotations

import json

from _drive import check

from sessionward import MemoryStore, SessionManager
from sessionward.core import json_text
from sessionward.core.client import ClientInfo

check(json_text._DECODER is not None, "msgspec is installed but not used")
for text in ('{"n": 123456789012345678901234567890}', '"\\ud800"', "NaN", '{"a": [1.5e-07]}'):
    check(repr(json_text.loads(text)) == repr(json.loads(text)), f"{text} read differently")

manager = SessionManager(MemoryStore(), sinks=())
client = ClientInfo.from_raw("127.0.0.1", "smoke")
session = manager.new_session(client)
session["big"] = 2**70
cookie = manager.commit(session)[-1][1].split(";", 1)[0]
again = manager.load(cookie, client)
check(again["big"] == 2**70 and type(again["big"]) is int, f"big int read back as {again['big']!r}")
