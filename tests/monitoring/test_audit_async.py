"""The async side of audit/: an async manager records its events and spots new devices
without the event loop waiting for the database."""

from __future__ import annotations

from pathlib import Path

import pytest

from sessionward import AsyncMemoryStore, AsyncSessionManager, ClientInfo
from sessionward.audit import (
    AsyncAuditSink,
    AsyncNewDeviceNotifier,
    MemoryAuditLog,
    SQLiteAuditLog,
    ThreadedAsyncAuditLog,
)
from sessionward.monitoring import Event, EventKind
from sessionward.testing import FakeClock

pytestmark = pytest.mark.anyio
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36"
)


async def test_async_sinks_record_the_history_and_report_a_new_device(
    tmp_path: Path, clock: FakeClock
) -> None:
    log = ThreadedAsyncAuditLog(SQLiteAuditLog(tmp_path / "audit.sqlite3"))
    told: list[Event] = []

    async def notify(event: Event) -> None:
        told.append(event)

    manager = AsyncSessionManager(
        AsyncMemoryStore(),
        clock=clock,
        sinks=[AsyncAuditSink(log), AsyncNewDeviceNotifier(log, notify)],
    )
    for agent in (FIREFOX, FIREFOX, CHROME):
        session = manager.new_session(ClientInfo(ip="203.0.113.7", user_agent=agent))
        await manager.login(session, "alice")
        await manager.aclose()  # deliver this login before the next one is judged
        clock.advance(60)
    assert [e.kind for e in told] == [EventKind.NEW_DEVICE]
    assert told[0].user_agent == CHROME
    history = await log.query(user_id="alice")
    kinds = [entry.event.kind for entry in history]
    assert kinds.count(EventKind.LOGIN_SUCCEEDED) == 3
    assert EventKind.NEW_DEVICE in kinds
    # The two sinks are separate tasks, so the third login and its new-device event may land
    # in either order; both are the newest two entries of the trail.
    newest = {e.event.kind for e in await log.tail(limit=2)}
    assert newest == {EventKind.LOGIN_SUCCEEDED, EventKind.NEW_DEVICE}
    await log.close()


async def test_a_plain_notify_hook_works_too(clock: FakeClock) -> None:
    log = ThreadedAsyncAuditLog(MemoryAuditLog())
    told: list[Event] = []
    notifier = AsyncNewDeviceNotifier(log, told.append, notify_first_login=True)
    manager = AsyncSessionManager(AsyncMemoryStore(), clock=clock, sinks=[notifier])
    session = manager.new_session(ClientInfo(ip="203.0.113.7", user_agent=FIREFOX))
    await manager.login(session, "alice")
    await manager.aclose()
    assert [e.kind for e in told] == [EventKind.NEW_DEVICE]
