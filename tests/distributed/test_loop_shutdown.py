"""An event loop that ends while the async PostgreSQL pool is still connecting shuts down.

A short-lived loop (``asyncio.run`` in a script or a test; before the Django fix, every
``async_to_sync`` call) may end while its store's pool is still connecting. psycopg_pool's
async pool treats a ``CancelledError`` during a connection attempt as a failed attempt, so
``asyncio.run`` used to wait forever for that worker (seen as the Django peer suite on
PostgreSQL hanging).

The server here is a socket that the kernel accepts connections on but nobody answers, so the
pool's first connection attempt is in flight when the loop ends, every time.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import pytest

pytest.importorskip("psycopg_pool")

from sessionward.stores.pg_settings import connection_kwargs, open_async_pool


@pytest.fixture
def silent_server() -> Iterator[int]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)  # never accepted: the handshake completes, no byte ever comes back
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


def test_a_loop_ending_mid_connect_is_not_kept_waiting(silent_server: int) -> None:
    conninfo = f"host=127.0.0.1 port={silent_server} dbname=test user=postgres"
    kwargs = connection_kwargs(
        "public", connect_timeout=30, statement_timeout=5, pool_timeout=5, max_size=2
    )

    async def open_and_leave() -> None:
        pool = open_async_pool(conninfo, kwargs, min_size=1, max_size=2, timeout=5, name="t")
        await pool.open(wait=False)
        await asyncio.sleep(0.05)  # the worker is now waiting for the server's first reply

    ended = threading.Event()

    def run() -> None:
        asyncio.run(open_and_leave())
        ended.set()

    threading.Thread(target=run, daemon=True).start()
    # Cancelling the tasks takes milliseconds; without the fix this waits for ever.
    assert ended.wait(20), "asyncio.run() never returned: a pool worker swallowed its cancel"
