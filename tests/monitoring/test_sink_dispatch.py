"""Sinks never block the event loop: a slow sync sink runs on the worker thread while the
response goes out, async sinks run as tasks, and a clean shutdown delivers every event."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from sessionward import (
    AsyncMemoryStore,
    AsyncSessionManager,
    ClientInfo,
    ConfigurationError,
    MemoryStore,
    SessionManager,
)
from sessionward.integrations.asgi import SessionMiddleware
from sessionward.monitoring import Event, EventKind
from sessionward.sink_dispatch import SinkDispatcher
from sessionward.testing import FakeClock

pytestmark = pytest.mark.anyio
CLIENT = ClientInfo(ip="203.0.113.7", user_agent="Firefox")
#: Only a safety bound, so a regression fails instead of hanging; no test waits this long.
STUCK = 10.0


class SlowSink:
    """A sync sink that blocks (like a database write) until the test releases it."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()
        self.kinds: list[str] = []

    def __call__(self, event: Event) -> None:
        self.entered.set()
        self.release.wait(STUCK)
        self.kinds.append(event.kind.value)


class AsyncListSink:
    def __init__(self) -> None:
        self.kinds: list[str] = []

    async def __call__(self, event: Event) -> None:
        await asyncio.sleep(0)
        self.kinds.append(event.kind.value)


async def test_the_response_is_sent_while_a_slow_sink_is_still_blocked(clock: FakeClock) -> None:
    slow = SlowSink()
    manager = AsyncSessionManager(AsyncMemoryStore(), clock=clock, sinks=[slow])

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await scope["session"].login("alice")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    sent: list[dict[str, Any]] = []
    body_sent = asyncio.Event()

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body":
            body_sent.set()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": [],
        "client": ("203.0.113.7", 1234),
        "scheme": "https",
    }
    request = asyncio.create_task(SessionMiddleware(app, manager=manager)(scope, receive, send))
    await body_sent.wait()
    # The whole response went out while the sink still holds the login event.
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert slow.kinds == []
    assert not request.done()  # the request's task waits (after the response) for its events
    slow.release.set()
    await request
    assert "login.succeeded" in slow.kinds


async def test_a_clean_shutdown_delivers_every_event_in_order(clock: FakeClock) -> None:
    slow = SlowSink()
    manager = AsyncSessionManager(AsyncMemoryStore(), clock=clock, sinks=[slow])
    for user in ("alice", "bob", "carol"):
        session = manager.new_session(CLIENT)
        await manager.login(session, user)
        await manager.logout(session)
    assert slow.kinds == []  # every call returned while the sink was blocked
    slow.release.set()
    await manager.aclose()
    expected = ["login.succeeded", "session.logout"] * 3
    assert [k for k in slow.kinds if k in expected] == expected
    assert manager.flows.observer.dispatcher.pending() == 0


async def test_async_sinks_run_as_tasks_and_aclose_awaits_them(clock: FakeClock) -> None:
    sink = AsyncListSink()
    manager = AsyncSessionManager(AsyncMemoryStore(), clock=clock, sinks=[sink])
    session = manager.new_session(CLIENT)
    await manager.login(session, "alice")
    await manager.aclose()
    assert "login.succeeded" in sink.kinds


async def test_a_failing_async_sink_is_logged_not_raised(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        async def __call__(self, event: Event) -> None:
            raise RuntimeError("audit cluster is down")

    manager = AsyncSessionManager(AsyncMemoryStore(), clock=clock, sinks=[Broken()])
    session = manager.new_session(CLIENT)
    with caplog.at_level(logging.ERROR, logger="sessionward"):
        await manager.login(session, "alice")
        await manager.aclose()
    assert session.is_authenticated
    assert any("audit cluster is down" in (r.exc_text or "") for r in caplog.records)


async def test_a_full_queue_drops_the_oldest_counts_and_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    slow = SlowSink()
    dispatcher = SinkDispatcher(max_pending=3)
    sinks = (slow,)

    def event(n: int) -> Event:
        return Event(kind=EventKind.LOGIN_FAILED, at=float(n), reason=str(n))

    dispatcher.dispatch(sinks, event(0))
    assert slow.entered.wait(STUCK)  # the worker holds event 0
    with caplog.at_level(logging.WARNING, logger="sessionward"):
        for n in range(1, 6):
            dispatcher.dispatch(sinks, event(n))  # never blocks, even with the sink stuck
    assert dispatcher.dropped == 2
    assert "dropping the oldest" in caplog.text
    slow.release.set()
    assert await asyncio.to_thread(dispatcher.close)
    assert len(slow.kinds) == 4  # event 0 and the three newest


async def test_the_lifespan_shutdown_flushes_the_sinks(clock: FakeClock) -> None:
    slow = SlowSink()
    manager = AsyncSessionManager(AsyncMemoryStore(), clock=clock, sinks=[slow])
    session = manager.new_session(CLIENT)
    await manager.login(session, "alice")
    seen_at_shutdown: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        slow.release.set()
        await send({"type": "lifespan.shutdown.complete"})

    async def receive() -> dict[str, Any]:
        return {"type": "lifespan.shutdown"}

    async def send(message: dict[str, Any]) -> None:
        seen_at_shutdown.extend(slow.kinds)

    await SessionMiddleware(app, manager=manager)({"type": "lifespan"}, receive, send)
    assert "login.succeeded" in seen_at_shutdown


def test_a_sync_manager_refuses_async_sinks_with_the_fix() -> None:
    with pytest.raises(ConfigurationError, match="use AsyncSessionManager"):
        SessionManager(MemoryStore(), sinks=[AsyncListSink()])  # type: ignore[list-item]


def test_without_a_loop_sync_sinks_still_run_inline(clock: FakeClock) -> None:
    seen: list[str] = []
    manager = SessionManager(MemoryStore(), clock=clock, sinks=[lambda e: seen.append(e.kind)])
    session = manager.new_session(CLIENT)
    manager.login(session, "alice")
    assert "login.succeeded" in seen  # WSGI and scripts: unchanged, nothing to flush
    manager.close()


SCRIPT = """
import asyncio, atexit, sys, threading
from sessionward import AsyncMemoryStore, AsyncSessionManager, ClientInfo

release = threading.Event()

def slow_sink(event):
    release.wait(10)
    with open(sys.argv[1], "a") as out:
        out.write(event.kind.value + "\\n")

async def main():
    manager = AsyncSessionManager(AsyncMemoryStore(), sinks=[slow_sink])
    # atexit runs handlers last-in first-out: this one releases the sink, then the
    # manager's hook (registered earlier) must wait for the delivery.
    atexit.register(release.set)
    session = manager.new_session(ClientInfo(ip="203.0.113.7", user_agent="x"))
    await manager.login(session, "alice")

asyncio.run(main())  # exits without aclose()
"""


def test_a_script_that_forgets_aclose_is_flushed_at_exit(tmp_path: Path) -> None:
    out = tmp_path / "events.txt"
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", SCRIPT, str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "login.succeeded" in out.read_text().split()
