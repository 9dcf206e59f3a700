"""RevocationSink carries session endings into either kind of token store, or refuses the wrong
one at construction: a native async token store used to drop every revocation silently."""

from __future__ import annotations

import pytest

from sessionward import AsyncMemoryStore, AsyncSessionManager, ClientInfo, ConfigurationError
from sessionward.testing import FakeClock
from sessionward.tokens import MemoryTokenStore, RevocationSink, ThreadedAsyncTokenStore
from sessionward.tokens.store import Revocations

CLIENT = ClientInfo(ip="203.0.113.7", user_agent="Firefox")


class NativeAsyncTokenStore:
    """An AsyncTokenStore whose methods are coroutines (like the Redis and PostgreSQL ones)."""

    def __init__(self) -> None:
        self.inner = MemoryTokenStore()

    async def end_session(self, session: str, *, now: float, until: float) -> int:
        return self.inner.end_session(session, now=now, until=until)

    async def end_all(self, *, now: float, until: float) -> int:
        return self.inner.end_all(now=now, until=until)

    async def revocations(self, now: float) -> Revocations:
        return self.inner.revocations(now)


def test_a_native_async_token_store_is_refused_with_the_fix() -> None:
    with pytest.raises(ConfigurationError, match="AsyncRevocationSink"):
        RevocationSink(NativeAsyncTokenStore(), lifetime=60)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_the_async_sink_revokes_in_a_native_async_token_store(clock: FakeClock) -> None:
    from sessionward.tokens import AsyncRevocationSink

    tokens = NativeAsyncTokenStore()
    manager = AsyncSessionManager(
        AsyncMemoryStore(), clock=clock, sinks=[AsyncRevocationSink(tokens, lifetime=60)]
    )
    session = manager.new_session(CLIENT)
    await manager.login(session, "alice")
    handle = session.handle
    await manager.logout(session)
    await manager.aclose()
    assert handle is not None
    assert handle in (await tokens.revocations(clock.now())).sessions


@pytest.mark.anyio
async def test_the_sync_sink_still_serves_a_threaded_store(clock: FakeClock) -> None:
    tokens = MemoryTokenStore()
    manager = AsyncSessionManager(
        AsyncMemoryStore(),
        clock=clock,
        sinks=[RevocationSink(ThreadedAsyncTokenStore(tokens), lifetime=60)],
    )
    session = manager.new_session(CLIENT)
    await manager.login(session, "alice")
    handle = session.handle
    await manager.logout(session)
    await manager.aclose()  # the sync sink ran on the worker thread: flush it
    assert handle in tokens.revocations(clock.now()).sessions


def test_the_old_import_path_warns() -> None:
    import sessionward.tokens.manager as old

    with pytest.warns(DeprecationWarning, match="import it from sessionward.tokens"):
        moved = old.RevocationSink
    assert moved is RevocationSink


def test_the_async_sink_refuses_a_sync_store() -> None:
    from sessionward.tokens import AsyncRevocationSink

    with pytest.raises(ConfigurationError, match="use RevocationSink"):
        AsyncRevocationSink(MemoryTokenStore(), lifetime=60)  # type: ignore[arg-type]
