"""Carrying session endings into the token store: :class:`RevocationSink` and its async twin.

Pass one in the session manager's ``sinks``: every logout, revoke, expiry and login that
replaces a session then deletes that session's refresh tokens and lists it as revoked for
``lifetime`` seconds (the access-token ttl plus leeway), which is what a ``revocation_list``
verifier consults. A strict verifier does not need it for access tokens, but refresh families
are still cleaned up at once.

Which call an event needs is decided once, in :func:`revocation_for`; the two sinks only make
the call. :class:`RevocationSink` calls a synchronous store (for a
:class:`~sessionward.tokens.store.ThreadedAsyncTokenStore`, its ``.sync``; under an async
manager it runs on the sink worker thread, off the loop). A native async store (Redis,
PostgreSQL) needs :class:`AsyncRevocationSink`; :class:`RevocationSink` refuses one at
construction instead of dropping its revocations. A failure is logged by the session manager
and does not fail the logout; in revocation-list mode the tokens then live at most their
remaining ttl.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..core.events import Event, EventKind
from ..errors import ConfigurationError
from .access import AccessSettings
from .store import AsyncTokenStore, ThreadedAsyncTokenStore, TokenStore

_ENDING = frozenset(
    {
        EventKind.LOGOUT,
        EventKind.REVOKED,
        EventKind.EXPIRED_IDLE,
        EventKind.EXPIRED_ABSOLUTE,
    }
)


@dataclass(frozen=True, slots=True)
class Revocation:
    """What the token store must do for one event: end one session, or all of them."""

    scope: Literal["session", "all"]
    session: str | None
    now: float
    until: float


def revocation_for(event: Event, lifetime: float) -> Revocation | None:
    """The token-store call ``event`` asks for, or ``None`` for events that end nothing."""
    until = event.at + lifetime
    if event.kind in _ENDING:
        if event.handle is not None:
            return Revocation("session", event.handle, event.at, until)
        if event.detail.get("scope") == "all":
            return Revocation("all", None, event.at, until)
    elif event.kind is EventKind.LOGIN_SUCCEEDED:
        previous: Mapping[str, Any] | str | None = event.detail.get("previous")
        if isinstance(previous, str):
            return Revocation("session", previous, event.at, until)
    return None


def _is_async(store: object) -> bool:
    return inspect.iscoroutinefunction(getattr(store, "end_session", None))


class RevocationSink:
    """A sync event sink that ends tokens in a synchronous :class:`TokenStore`."""

    def __init__(self, store: TokenStore | ThreadedAsyncTokenStore, *, lifetime: float) -> None:
        sync = store.sync if isinstance(store, ThreadedAsyncTokenStore) else store
        if _is_async(sync):
            raise ConfigurationError(
                f"RevocationSink needs a synchronous token store, not {type(store).__name__} "
                "(its calls are coroutines and would never run); use "
                "AsyncRevocationSink(store, lifetime=...) with an AsyncSessionManager"
            )
        self.store: TokenStore = sync
        self.lifetime = lifetime

    def __repr__(self) -> str:
        return f"RevocationSink({self.store!r})"

    @classmethod
    def for_settings(
        cls, store: TokenStore | ThreadedAsyncTokenStore, settings: AccessSettings
    ) -> RevocationSink:
        return cls(store, lifetime=settings.ttl + settings.leeway)

    def __call__(self, event: Event) -> None:
        todo = revocation_for(event, self.lifetime)
        if todo is None:
            return
        if todo.session is not None:
            self.store.end_session(todo.session, now=todo.now, until=todo.until)
        else:
            self.store.end_all(now=todo.now, until=todo.until)


class AsyncRevocationSink:
    """The async twin of :class:`RevocationSink`, for an :class:`AsyncTokenStore`.

    Use it with an :class:`~sessionward.AsyncSessionManager`; each revocation is awaited in a
    task of its own, so the request that ended the session does not wait for it.
    """

    def __init__(self, store: AsyncTokenStore, *, lifetime: float) -> None:
        if not _is_async(store):
            raise ConfigurationError(
                f"AsyncRevocationSink needs an async token store, not {type(store).__name__}; "
                "use RevocationSink(store, lifetime=...) for a synchronous one"
            )
        self.store = store
        self.lifetime = lifetime

    def __repr__(self) -> str:
        return f"AsyncRevocationSink({self.store!r})"

    @classmethod
    def for_settings(cls, store: AsyncTokenStore, settings: AccessSettings) -> AsyncRevocationSink:
        return cls(store, lifetime=settings.ttl + settings.leeway)

    async def __call__(self, event: Event) -> None:
        todo = revocation_for(event, self.lifetime)
        if todo is None:
            return
        if todo.session is not None:
            await self.store.end_session(todo.session, now=todo.now, until=todo.until)
        else:
            await self.store.end_all(now=todo.now, until=todo.until)
