"""Where refresh-token families and the revocation list live.

A small protocol of its own, apart from the session :class:`~sessionward.stores.base.Store`, so
an app can keep tokens next to its sessions or elsewhere. Invariants every implementation keeps
(``tests/tokens/test_token_store.py`` runs one suite against each):

* Refresh tokens are keyed by SHA-256 of the token (``RefreshRecord.key``); raw tokens are never
  stored, and a successor is kept only sealed (see :mod:`sessionward.tokens.refresh`).
* ``rotate`` is a compare-and-set: of two concurrent rotations of one token exactly one returns
  ``True``; the loser changes nothing and must re-read.
* ``end_session`` removes every refresh token of the session *and* lists the session as revoked
  until ``until`` (the last moment one of its access tokens could still verify) in one step.
* ``revocations`` returns only entries still in force at ``now``; a ``not_before`` set by
  ``end_all`` revokes every access token issued before it.
* Infrastructure failures raise :class:`~sessionward.errors.StoreUnavailable`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, Protocol, TypeVar

from ..errors import DuplicateKey
from ..stores.threaded import run_in_thread
from .refresh import RefreshRecord

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Revocations:
    """The revocation list as one verifier caches it."""

    sessions: frozenset[str] = frozenset()
    not_before: float | None = None

    def revokes(self, session: str, issued_at: float) -> bool:
        if session in self.sessions:
            return True
        return self.not_before is not None and issued_at < self.not_before


class TokenStore(Protocol):
    """A synchronous token store; see the module docstring for the invariants."""

    def add(self, record: RefreshRecord) -> None: ...

    def get(self, key: str) -> RefreshRecord | None: ...

    def rotate(self, key: str, successor: RefreshRecord, *, sealed: str, now: float) -> bool:
        """Mark ``key`` rotated (with ``sealed``) and insert ``successor``, if ``key`` is
        present and not yet rotated; otherwise change nothing and return ``False``."""
        ...

    def end_session(self, session: str, *, now: float, until: float) -> int:
        """Delete the session's refresh tokens, list it as revoked until ``until``."""
        ...

    def end_all(self, *, now: float, until: float) -> int:
        """Delete every refresh token; revoke every access token issued before ``now``."""
        ...

    def revocations(self, now: float) -> Revocations: ...

    def purge_expired(self, now: float) -> int: ...

    def close(self) -> None: ...


class AsyncTokenStore(Protocol):
    """The asynchronous twin of :class:`TokenStore`."""

    async def add(self, record: RefreshRecord) -> None: ...

    async def get(self, key: str) -> RefreshRecord | None: ...

    async def rotate(
        self, key: str, successor: RefreshRecord, *, sealed: str, now: float
    ) -> bool: ...

    async def end_session(self, session: str, *, now: float, until: float) -> int: ...

    async def end_all(self, *, now: float, until: float) -> int: ...

    async def revocations(self, now: float) -> Revocations: ...

    async def purge_expired(self, now: float) -> int: ...

    async def close(self) -> None: ...


class MemoryTokenStore:
    """Refresh tokens and revocations in process memory (tests, single-process apps)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, RefreshRecord] = {}
        self._revoked: dict[str, float] = {}
        self._not_before: tuple[float, float] | None = None

    def add(self, record: RefreshRecord) -> None:
        with self._lock:
            if record.key in self._tokens:
                raise DuplicateKey("refresh token key already exists")
            self._tokens[record.key] = record

    def get(self, key: str) -> RefreshRecord | None:
        with self._lock:
            return self._tokens.get(key)

    def rotate(self, key: str, successor: RefreshRecord, *, sealed: str, now: float) -> bool:
        with self._lock:
            current = self._tokens.get(key)
            if current is None or current.rotated_at is not None:
                return False
            self._tokens[key] = current.evolve(rotated_at=now, sealed=sealed)
            self._tokens[successor.key] = successor
            return True

    def end_session(self, session: str, *, now: float, until: float) -> int:
        with self._lock:
            doomed = [k for k, r in self._tokens.items() if r.session == session]
            for key in doomed:
                del self._tokens[key]
            self._revoked[session] = max(until, self._revoked.get(session, until))
            return len(doomed)

    def end_all(self, *, now: float, until: float) -> int:
        with self._lock:
            count = len(self._tokens)
            self._tokens.clear()
            self._not_before = (now, until)
            return count

    def revocations(self, now: float) -> Revocations:
        with self._lock:
            sessions = frozenset(s for s, until in self._revoked.items() if until > now)
            not_before = None
            if self._not_before is not None and self._not_before[1] > now:
                not_before = self._not_before[0]
            return Revocations(sessions, not_before)

    def purge_expired(self, now: float) -> int:
        with self._lock:
            gone = [k for k, r in self._tokens.items() if r.expires_at <= now]
            for key in gone:
                del self._tokens[key]
            for session in [s for s, until in self._revoked.items() if until <= now]:
                del self._revoked[session]
            return len(gone)

    def close(self) -> None:
        return None


class ThreadedAsyncTokenStore:
    """Adapt a synchronous :class:`TokenStore` to :class:`AsyncTokenStore`.

    With ``offload=True`` (the default) each call runs in a worker thread, so a blocking backend
    such as SQLite never stalls the event loop; pass ``offload=False`` for the memory store.
    """

    def __init__(self, store: TokenStore, *, offload: bool = True) -> None:
        self.sync = store
        self._offload = offload

    async def _call(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        if not self._offload:
            return fn(*args, **kwargs)
        return await run_in_thread(fn, *args, **kwargs)

    async def add(self, record: RefreshRecord) -> None:
        await self._call(self.sync.add, record)

    async def get(self, key: str) -> RefreshRecord | None:
        return await self._call(self.sync.get, key)

    async def rotate(self, key: str, successor: RefreshRecord, *, sealed: str, now: float) -> bool:
        return await self._call(self.sync.rotate, key, successor, sealed=sealed, now=now)

    async def end_session(self, session: str, *, now: float, until: float) -> int:
        return await self._call(self.sync.end_session, session, now=now, until=until)

    async def end_all(self, *, now: float, until: float) -> int:
        return await self._call(self.sync.end_all, now=now, until=until)

    async def revocations(self, now: float) -> Revocations:
        return await self._call(self.sync.revocations, now)

    async def purge_expired(self, now: float) -> int:
        return await self._call(self.sync.purge_expired, now)

    async def close(self) -> None:
        await self._call(self.sync.close)


def refresh_row(record: RefreshRecord) -> tuple[Any, ...]:
    """A refresh record as the column values SQL token stores keep, in field order."""
    return (
        record.key,
        record.family,
        record.session,
        record.user_id,
        record.issued_at,
        record.expires_at,
        record.rotated_at,
        record.sealed,
    )
