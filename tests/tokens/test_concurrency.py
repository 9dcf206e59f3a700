"""Several tabs refreshing with the same token at the same moment, on SQLite in worker threads:
exactly one rotation happens, every tab receives the same successor, nobody is logged out."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from sessionward import AsyncSessionManager, AsyncSQLiteStore
from sessionward.monitoring import MemorySink
from sessionward.testing import FakeClock
from sessionward.tokens import (
    AsyncSQLiteTokenStore,
    AsyncTokenManager,
    RevocationSink,
    SigningKey,
    SigningKeys,
    TokenPair,
)

from .helpers import CLIENT, SETTINGS

pytestmark = pytest.mark.anyio


async def test_concurrent_tabs_share_one_successor(tmp_path: Path) -> None:
    clock = FakeClock()
    sink = MemorySink()
    token_store = AsyncSQLiteTokenStore(tmp_path / "tokens.sqlite3")
    sessions = AsyncSessionManager(
        AsyncSQLiteStore(tmp_path / "sessions.sqlite3"),
        clock=clock,
        sinks=[sink, RevocationSink.for_settings(token_store, SETTINGS)],
    )
    tokens = AsyncTokenManager(
        sessions, token_store, keys=SigningKeys([SigningKey.generate()]), settings=SETTINGS
    )
    first = await tokens.login("alice", CLIENT)
    results: list[TokenPair] = []

    async def tab() -> None:
        results.append(await tokens.refresh(first.refresh_token, CLIENT))

    async with anyio.create_task_group() as group:
        for _ in range(12):
            group.start_soon(tab)
    assert len(results) == 12
    assert len({r.refresh_token for r in results}) == 1
    assert "token.refresh.reused" not in sink.kinds()
    assert sink.kinds().count("token.refreshed") == 12
    # The one successor works; the session is alive.
    after = await tokens.refresh(results[0].refresh_token, CLIENT)
    assert (await tokens.verify(after.access_token)).subject == "alice"
    await token_store.close()
