"""The async Redis store's shared connection (``stores/_resp.py``) under concurrency.

Commands written by concurrent requests in one pass of the event loop leave in one write (Redis
then reads and answers them with one system call each way); every request must still get its
own reply, in order, and a connection that dies with commands queued fails them all rather than
pairing a late reply with the wrong request.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from conftest import require_service
from distributed.services import REDIS_URL, redis_problem


def _multiplexer():  # type: ignore[no-untyped-def]
    require_service("redis", redis_problem())
    from sessionward.stores._resp import Multiplexer

    return Multiplexer(REDIS_URL, timeout=2.0, connect_timeout=2.0)


def _run(mux, scenario) -> None:  # type: ignore[no-untyped-def]
    """Run ``scenario`` and close the connection on the same loop."""

    async def main() -> None:
        try:
            await scenario()
        finally:
            mux.close()
            await asyncio.sleep(0.01)  # let the transport finish closing

    asyncio.run(main())


def _counting_writes(mux) -> list[bytes]:  # type: ignore[no-untyped-def]
    """Record every write the shared connection makes from now on."""
    conn = mux._conn
    writes: list[bytes] = []
    real = conn.transport.write

    def write(data: bytes) -> None:
        writes.append(data)
        real(data)

    conn.transport.write = write
    return writes


def test_concurrent_commands_share_a_write_and_each_gets_its_own_reply() -> None:
    mux = _multiplexer()
    prefix = f"swtest_mux_{uuid.uuid4().hex[:12]}"

    async def scenario() -> None:
        await mux.call("PING")  # connect first, so every command below goes to one connection
        writes = _counting_writes(mux)
        names = [f"{prefix}:{i}" for i in range(40)]
        await asyncio.gather(*(mux.call("SET", name, f"v{i}") for i, name in enumerate(names)))
        assert len(writes) < 10  # 40 commands, a handful of writes (the first goes at once)
        writes.clear()
        replies = await asyncio.gather(
            *(mux.call("GET", name) for name in names),
            mux.transaction(("INCR", f"{prefix}:n"), ("GET", names[0])),
        )
        assert replies[:40] == [f"v{i}" for i in range(40)]
        assert replies[40] == [1, "v0"]
        assert len(writes) < 10
        await mux.call("DEL", *names, f"{prefix}:n")

    _run(mux, scenario)


def test_a_lone_command_is_written_at_once() -> None:
    mux = _multiplexer()

    async def scenario() -> None:
        await mux.call("PING")
        writes = _counting_writes(mux)
        pending = asyncio.ensure_future(mux.call("PING"))
        await asyncio.sleep(0)  # the command is on the wire before the loop's next pass
        assert len(writes) == 1
        assert await pending == "PONG"

    _run(mux, scenario)


def test_a_connection_lost_with_commands_queued_fails_them_all() -> None:
    import redis

    mux = _multiplexer()

    async def scenario() -> None:
        await mux.call("PING")
        calls = [asyncio.ensure_future(mux.call("PING")) for _ in range(5)]
        await asyncio.sleep(0)  # all five queued or written; none answered yet
        mux._conn.connection_lost(None)
        results = await asyncio.gather(*calls, return_exceptions=True)
        assert all(isinstance(r, redis.ConnectionError) for r in results)
        assert await mux.call("PING") == "PONG"  # the next command reconnects

    _run(mux, scenario)


@pytest.mark.parametrize("n", [1, 2])
def test_replies_never_pair_with_the_wrong_command_after_a_time_out(n: int) -> None:
    import redis

    mux = _multiplexer()
    mux.timeout = 0.2

    async def scenario() -> None:
        await mux.call("PING")
        # BLPOP on a missing list holds the connection past the time-out; the command queued
        # behind it must fail with it, not receive the BLPOP's late answer.
        slow = asyncio.ensure_future(mux.call("BLPOP", f"swtest_mux_{uuid.uuid4().hex}", n))
        behind = asyncio.ensure_future(mux.call("ECHO", "mine"))
        results = await asyncio.gather(slow, behind, return_exceptions=True)
        assert all(isinstance(r, redis.TimeoutError) for r in results)
        assert await mux.call("ECHO", "fresh") == "fresh"

    _run(mux, scenario)
