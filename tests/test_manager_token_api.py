"""The manager methods framework engines build on: load by token, create now, exists, and
revoking a user's sessions but one (Django's engine uses them; they are generic)."""

from __future__ import annotations

import asyncio

from sessionward import (
    AsyncMemoryStore,
    AsyncSessionManager,
    ClientInfo,
    MemoryStore,
    SessionManager,
    SessionPolicy,
)
from sessionward.monitoring import MemorySink
from sessionward.testing import FakeClock

CLIENT = ClientInfo(ip="192.0.2.1", user_agent="test")


def make() -> tuple[SessionManager, FakeClock, MemorySink]:
    clock, sink = FakeClock(), MemorySink()
    policy = SessionPolicy(idle_timeout=300, touch_interval=10)
    return SessionManager(MemoryStore(), clock=clock, sinks=[sink], policy=policy), clock, sink


def test_create_stores_an_empty_session_and_load_token_reads_it() -> None:
    manager, _, sink = make()
    session = manager.new_session(CLIENT)
    manager.create(session)
    token = session.token
    assert token is not None and manager.exists(token)
    again = manager.load_token(token, CLIENT)
    assert again.handle == session.handle and dict(again) == {}
    assert "session.created" in sink.kinds()


def test_load_token_never_creates_and_counts_unknown_ids() -> None:
    manager, _, sink = make()
    unknown = manager.load_token("A" * 43, CLIENT)
    assert unknown.record is None and manager.store.list_all() == []
    malformed = manager.load_token("not a token", CLIENT)
    assert malformed.record is None
    assert sink.kinds() == ["session.id.unknown", "session.id.malformed"]


def test_exists_is_false_for_expired_malformed_and_revoked_and_has_no_side_effects() -> None:
    manager, clock, sink = make()
    session = manager.new_session(CLIENT)
    session["a"] = 1
    manager.commit(session)
    token = session.token
    assert token is not None
    before = list(sink.kinds())
    assert manager.exists(token) and not manager.exists("short") and not manager.exists("")
    assert sink.kinds() == before
    clock.advance(301)
    assert not manager.exists(token)
    assert manager.store.list_all() != []  # exists() judged it; it deleted nothing


def test_revoke_user_can_keep_one_session() -> None:
    manager, _, _ = make()
    sessions = []
    for _ in range(3):
        s = manager.new_session(CLIENT)
        manager.login(s, "alice")
        sessions.append(s)
    assert manager.revoke_user("alice", keep=sessions[1]) == 2
    assert [i.handle for i in manager.sessions_of("alice")] == [sessions[1].handle]
    assert manager.revoke_user("alice") == 1


def test_async_twins() -> None:
    async def run() -> None:
        manager = AsyncSessionManager(AsyncMemoryStore(), sinks=[])
        session = manager.new_session(CLIENT)
        await manager.create(session)
        token = session.token
        assert token is not None and await manager.exists(token)
        loaded = await manager.load_token(token, CLIENT)
        assert loaded.handle == session.handle
        await manager.login(loaded, "bob")
        other = manager.new_session(CLIENT)
        await manager.login(other, "bob")
        assert await manager.revoke_user("bob", keep=other) == 1

    asyncio.run(run())
