"""Whatever bytes arrive in the DBSC headers, the endpoints answer 4xx (or the protocol's 200
``continue: false``), never raise. Driven through the sans-I/O flows and the sync manager."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from sessionward import MemoryStore, SessionManager
from sessionward.binding import BindingConfig, BindingRequest, DeviceBinding
from sessionward.core.client import ClientInfo
from sessionward.testing import FakeClock

from .app import KEYS
from .client import Key, sf

CLOCK = FakeClock()
MANAGER = SessionManager(MemoryStore(), clock=CLOCK, sinks=[])
BINDING = DeviceBinding(MANAGER, BindingConfig(keys=KEYS))
CLIENT = ClientInfo(ip="192.0.2.1")
KEY = Key()


def _bound_session() -> object:
    session = MANAGER.new_session(CLIENT)
    MANAGER.login(session, "alice")
    assert session.record is not None
    challenge = re.search(r'challenge="([^"]+)"', BINDING.offer(session.record))
    assert challenge is not None
    request = BindingRequest(
        "POST",
        "/_sessionward/dbsc/register",
        None,
        sf(KEY.proof(challenge.group(1), registration=True)),
    )
    assert MANAGER._run(BINDING.handle("register", session, request)).status == 200
    return session


BOUND = _bound_session()
UNBOUND = MANAGER.new_session(CLIENT)
MANAGER.login(UNBOUND, "bob")
values = st.one_of(st.none(), st.binary(max_size=400), st.text(max_size=400))


@settings(max_examples=300, deadline=None)
@given(session_id=values, response=values, kind=st.sampled_from(["register", "refresh"]))
def test_random_headers_never_raise(session_id: object, response: object, kind: str) -> None:
    session = BOUND if kind == "refresh" else UNBOUND
    request = BindingRequest("POST", "/", session_id, response)  # type: ignore[arg-type]
    reply = MANAGER._run(BINDING.handle(kind, session, request))  # type: ignore[arg-type]
    assert 400 <= reply.status < 500 or (reply.status == 200 and b'"continue":false' in reply.body)
