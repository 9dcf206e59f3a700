"""Session managers: drive the flows of :mod:`sessionward.flows` against a store.

``SessionManager`` works with a synchronous :class:`~sessionward.stores.base.Store` (WSGI,
Django, Flask, scripts); ``AsyncSessionManager`` with an
:class:`~sessionward.stores.base.AsyncStore` (ASGI). Both expose the same operations.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

from .calls import Flow, StoreCall, drive, drive_async
from .core.anomaly import needs_reauthentication
from .core.client import ClientInfo
from .core.clock import SYSTEM_CLOCK, Clock
from .core.cookies import CookieConfig
from .core.events import AnyEventSink, EventKind, EventSink, RevokeReason
from .core.keys import SecretKeyRing
from .core.monitoring import Monitoring
from .core.placement import Placement
from .core.policy import Seconds, SessionPolicy, seconds
from .core.records import SessionRecord
from .errors import ConfigurationError
from .flows import Headers, SessionFlows, response_headers
from .guard import counters_for, is_local
from .observer import COUNTERS, Observer
from .session import AsyncSession, BaseSession, Session, SessionInfo
from .sinks import LoggingSink
from .stores.base import AsyncStore, Store

T = TypeVar("T")
#: Decides, after a load, whether a stored session may be served for this request (see
#: :meth:`SessionManager.add_load_gate`). Pure: no I/O; it may emit events.
LoadGate = Callable[[SessionRecord, "str | bytes | None", ClientInfo], bool]
logger = logging.getLogger("sessionward")
_STORE_METHODS = (
    "create",
    "get",
    "get_by_handle",
    "update",
    "delete",
    "list_by_user",
    "delete_by_user",
    "delete_all",
    "purge_expired",
)


def _placement_of(store: Any) -> Placement | None:
    placement = getattr(store, "placement", None)
    return placement if isinstance(placement, Placement) else None


class _Base:
    def __init__(
        self,
        store: Any,
        *,
        policy: SessionPolicy | None,
        cookie: CookieConfig | None,
        clock: Clock,
        sinks: Sequence[AnyEventSink] | None,
        monitoring: Monitoring | None = None,
        token_keys: SecretKeyRing | None = None,
        counters: Any = None,
        asynchronous: bool = False,
    ) -> None:
        missing = [m for m in _STORE_METHODS if not callable(getattr(store, m, None))]
        if missing:
            raise ConfigurationError(
                f"{type(store).__name__} is not a session store (missing {', '.join(missing)})"
            )
        renews = policy is not None and policy.renew_interval is not None
        if renews and not callable(getattr(store, "renew", None)):
            raise ConfigurationError(
                f"{type(store).__name__} cannot renew tokens (no renew method); "
                "set renew_interval=None or use a store that supports renewal"
            )
        self.store = store
        cookie = cookie or CookieConfig()
        self.flows = SessionFlows(
            policy=policy or SessionPolicy(),
            cookie=cookie,
            clock=clock,
            observer=Observer(
                clock=clock,
                cookie=cookie,
                sinks=(LoggingSink(),) if sinks is None else sinks,
                monitoring=monitoring,
            ),
            token_keys=token_keys,
            # A store that spreads over buckets (Redis with buckets=N) says where keys go.
            placement=_placement_of(store),
        )
        #: Where the guessing guard and login limiters count (shared for Redis/PostgreSQL).
        self.counters = (
            counters_for(store, asynchronous=asynchronous) if counters is None else counters
        )
        if token_keys is None and not is_local(self.counters):
            # Works, but each instance tags tokens with a key of its own, so after a bulk loss
            # (a Redis restart) the others' genuine cookies count as guesses.
            logger.warning(
                "sessionward: %r is shared by several instances but no token_keys are set; "
                "pass the same SessionManager(token_keys=SecretKeyRing([...])) to every "
                "instance so lost sessions are never mistaken for guessing",
                store,
            )
        self._load_gates: list[LoadGate] = []

    def add_load_gate(self, gate: LoadGate) -> None:
        """Run ``gate(record, cookie_header, client)`` after every load.

        A gate that returns False makes the request see a new, empty session instead of the
        stored one (which is left untouched): device binding uses this so a bound session
        without its bound cookie is never served as authenticated.
        """
        self._load_gates.append(gate)

    def _gated(
        self, record: SessionRecord | None, cookies: str | bytes | None, client: ClientInfo
    ) -> bool:
        return record is None or all(gate(record, cookies, client) for gate in self._load_gates)

    @property
    def policy(self) -> SessionPolicy:
        return self.flows.policy

    @property
    def cookie(self) -> CookieConfig:
        return self.flows.cookie

    def emit(
        self,
        kind: EventKind,
        *,
        client: ClientInfo | None = None,
        reason: str | None = None,
        user_id: str | None = None,
        **detail: Any,
    ) -> None:
        """Record an application event (e.g. a failed login) in the audit trail.

        Pass ``user_id`` only for an account that exists (a failed login for a real user shows
        in their login history); never an unchecked name the client typed.
        """
        self.flows.observer.emit(kind, client=client, reason=reason, user_id=user_id, **detail)

    def failed_response_headers(self, session: BaseSession) -> Headers:
        """Headers for a response the app answered with a 5xx: nothing is saved.

        Only a token that already changed in the store (a login before the error) is sent.
        Every shell calls this instead of :meth:`commit` for a 5xx; no store call.
        """
        return response_headers(session, self.flows.failed(session))

    def needs_reauthentication(self, session: BaseSession, max_age: Seconds) -> bool:
        """Whether ``session`` must re-enter its password before a sensitive action.

        True when it is anonymous, authenticated more than ``max_age`` ago, or marked by an
        anomaly rule.
        """
        age = seconds(max_age, "max_age")
        return needs_reauthentication(session.record, age, self.flows.clock.now())


class SessionManager(_Base):
    """Sessions over a synchronous store."""

    def __init__(
        self,
        store: Store,
        *,
        policy: SessionPolicy | None = None,
        cookie: CookieConfig | None = None,
        clock: Clock = SYSTEM_CLOCK,
        sinks: Sequence[EventSink] | None = None,
        monitoring: Monitoring | None = None,
        token_keys: SecretKeyRing | None = None,
        counters: Any = None,
    ) -> None:
        super().__init__(
            store,
            policy=policy,
            cookie=cookie,
            clock=clock,
            sinks=sinks,
            monitoring=monitoring,
            token_keys=token_keys,
            counters=counters,
        )
        self.flows.observer.dispatcher.require_sync("SessionManager", self.flows.observer.sinks)
        # A sync manager runs only where blocking is allowed (its store calls block too), so its
        # sinks are called inline, in order, even when it happens to run on a loop's thread.
        self.flows.observer.dispatcher.inline = True

    def close(self) -> None:
        """Deliver the events still on their way to the sinks; call at shutdown.

        A sync manager calls its sinks inline, so there is normally nothing to wait for; an
        ``atexit`` hook does the same for scripts. The store is not closed.
        """
        self.flows.observer.dispatcher.close()

    def _run(self, flow: Flow[T]) -> T:
        return drive(flow, self._call)

    def _call(self, op: StoreCall) -> Any:
        method, args, kwargs, target = op
        backend = self.counters if target == COUNTERS else self.store
        return getattr(backend, method)(*args, **kwargs)

    def retry_after(self, client: ClientInfo, cookie_header: str | bytes | None) -> float | None:
        """Seconds until a client blocked for guessing session IDs may retry, or ``None``.

        Informational: ``load`` itself raises :class:`~sessionward.errors.GuessingBlocked` for
        such a client's forged IDs (never for a live session). ``None`` without a cookie.
        """
        return self._run(self.flows.observer.retry_after(client, cookie_header))

    def load(
        self,
        cookie_header: str | bytes | None,
        client: ClientInfo,
        *,
        session_class: type[Session] = Session,
        gated: bool = True,
    ) -> Session:
        """Read the session named by the Cookie header; never creates a record.

        ``session_class`` lets a framework adapter return its own :class:`Session` subclass.
        ``gated=False`` skips the load gates (for the device-binding refresh endpoint only).
        """
        record, token = self.load_record(cookie_header, client, gated=gated)
        return session_class(self, client, record, token)

    def load_record(
        self, cookie_header: str | bytes | None, client: ClientInfo, *, gated: bool = True
    ) -> tuple[SessionRecord | None, str | None]:
        """What :meth:`load` builds its session from: the record and token, or ``None, None``.

        For a framework shell that makes its own session object (Flask's loads lazily into
        one): the same flow, gates and events as ``load``, without a throwaway session.
        """
        loaded = self._run(self.flows.load(cookie_header, client))
        if loaded.record is None or (
            gated and self._load_gates and not self._gated(loaded.record, cookie_header, client)
        ):
            return None, None
        return loaded.record, loaded.token

    def load_token(
        self, token: str, client: ClientInfo, *, session_class: type[Session] = Session
    ) -> Session:
        """Read the session named by ``token`` (a framework's cookie value); never creates."""
        loaded = self._run(self.flows.load_token(token, client))
        return session_class(self, client, loaded.record, loaded.token)

    def new_session(self, client: ClientInfo) -> Session:
        return Session(self, client)

    def create(self, session: BaseSession) -> None:
        """Store a new anonymous ``session`` now, even without data."""
        self._run(self.flows.create(session))

    def exists(self, token: str) -> bool:
        """Whether ``token`` names a live session (no events, nothing changed)."""
        return self._run(self.flows.exists(token))

    def commit(self, session: BaseSession) -> Headers:
        """Persist the session; return the headers the response must carry."""
        return response_headers(session, self._run(self.flows.commit(session)))

    def login(
        self, session: BaseSession, user_id: str, *, keep: tuple[str, ...] | None = None
    ) -> None:
        self._run(self.flows.login(session, user_id, keep))

    def rotate(self, session: BaseSession) -> None:
        self._run(self.flows.rotate(session))

    def reauthenticate(self, session: BaseSession) -> None:
        """Call after the user re-entered their password: new token, fresh auth time."""
        self._run(self.flows.reauthenticate(session))

    def logout(self, session: BaseSession) -> None:
        self._run(self.flows.logout(session))

    def logout_everywhere(self, session: BaseSession) -> int:
        return self._run(self.flows.logout_everywhere(session))

    def sessions_of(self, user_id: str) -> list[SessionInfo]:
        return self._run(self.flows.sessions_of(user_id))

    def sessions_of_current(self, session: BaseSession) -> list[SessionInfo]:
        user = session.user_id
        return [] if user is None else self._run(self.flows.sessions_of(user, session.handle))

    def revoke_own(self, session: BaseSession, handle: str) -> bool:
        user = session.user_id
        if user is None:
            return False
        if handle == session.handle:
            self.logout(session)
            return True
        return self._run(
            self.flows.revoke(handle, owner=user, reason=RevokeReason.USER, client=session.client)
        )

    def revoke(self, handle: str, *, reason: RevokeReason = RevokeReason.ADMIN) -> bool:
        return self._run(self.flows.revoke(handle, owner=None, reason=reason))

    def revoke_user(
        self,
        user_id: str,
        *,
        reason: RevokeReason = RevokeReason.ADMIN,
        keep: BaseSession | None = None,
    ) -> int:
        """End every session of ``user_id`` (except ``keep``, e.g. after a password change)."""
        return self._run(self.flows.revoke_user(user_id, reason, keep))

    def revoke_all(self) -> int:
        return self._run(self.flows.revoke_all())

    def purge_expired(self) -> int:
        return self._run(self.flows.purge_expired())


class AsyncSessionManager(_Base):
    """Sessions over an asynchronous store; the twin of :class:`SessionManager`."""

    def __init__(
        self,
        store: AsyncStore,
        *,
        policy: SessionPolicy | None = None,
        cookie: CookieConfig | None = None,
        clock: Clock = SYSTEM_CLOCK,
        sinks: Sequence[AnyEventSink] | None = None,
        monitoring: Monitoring | None = None,
        token_keys: SecretKeyRing | None = None,
        counters: Any = None,
    ) -> None:
        super().__init__(
            store,
            policy=policy,
            cookie=cookie,
            clock=clock,
            sinks=sinks,
            monitoring=monitoring,
            token_keys=token_keys,
            counters=counters,
            asynchronous=True,
        )

    async def aclose(self) -> None:
        """Deliver the events still on their way to the sinks; call at shutdown.

        Awaits async sinks and flushes the worker thread of the sync ones (each at most
        ``sessionward.sink_dispatch.FLUSH_TIMEOUT`` seconds), without blocking the loop. The
        store is not closed: it is yours. The ASGI middleware calls this on lifespan shutdown.
        """
        await self.flows.observer.dispatcher.aclose()

    def _run(self, flow: Flow[T]) -> Coroutine[Any, Any, T]:
        # Not itself a coroutine: the caller awaits the driver's directly (one frame less).
        return drive_async(flow, self._call)

    def _call(self, op: StoreCall) -> Awaitable[Any]:
        method, args, kwargs, target = op
        backend = self.counters if target == COUNTERS else self.store
        result: Awaitable[Any] = getattr(backend, method)(*args, **kwargs)
        return result

    async def retry_after(
        self, client: ClientInfo, cookie_header: str | bytes | None
    ) -> float | None:
        """Seconds until a client blocked for guessing may retry; see ``SessionManager``."""
        return await self._run(self.flows.observer.retry_after(client, cookie_header))

    async def load(
        self, cookie_header: str | bytes | None, client: ClientInfo, *, gated: bool = True
    ) -> AsyncSession:
        loaded = await self._run(self.flows.load(cookie_header, client))
        if gated and self._load_gates and not self._gated(loaded.record, cookie_header, client):
            return AsyncSession(self, client)
        return AsyncSession(self, client, loaded.record, loaded.token)

    async def load_token(self, token: str, client: ClientInfo) -> AsyncSession:
        """Read the session named by ``token`` (a framework's cookie value); never creates."""
        loaded = await self._run(self.flows.load_token(token, client))
        return AsyncSession(self, client, loaded.record, loaded.token)

    def new_session(self, client: ClientInfo) -> AsyncSession:
        return AsyncSession(self, client)

    async def create(self, session: BaseSession) -> None:
        """Store a new anonymous ``session`` now, even without data."""
        await self._run(self.flows.create(session))

    async def exists(self, token: str) -> bool:
        """Whether ``token`` names a live session (no events, nothing changed)."""
        return await self._run(self.flows.exists(token))

    async def commit(self, session: BaseSession) -> Headers:
        """Persist the session; return the headers the response must carry."""
        return response_headers(session, await self._run(self.flows.commit(session)))

    async def login(
        self, session: BaseSession, user_id: str, *, keep: tuple[str, ...] | None = None
    ) -> None:
        await self._run(self.flows.login(session, user_id, keep))

    async def rotate(self, session: BaseSession) -> None:
        await self._run(self.flows.rotate(session))

    async def reauthenticate(self, session: BaseSession) -> None:
        """Call after the user re-entered their password: new token, fresh auth time."""
        await self._run(self.flows.reauthenticate(session))

    async def logout(self, session: BaseSession) -> None:
        await self._run(self.flows.logout(session))

    async def logout_everywhere(self, session: BaseSession) -> int:
        return await self._run(self.flows.logout_everywhere(session))

    async def sessions_of(self, user_id: str) -> list[SessionInfo]:
        return await self._run(self.flows.sessions_of(user_id))

    async def sessions_of_current(self, session: BaseSession) -> list[SessionInfo]:
        user = session.user_id
        if user is None:
            return []
        return await self._run(self.flows.sessions_of(user, session.handle))

    async def revoke_own(self, session: BaseSession, handle: str) -> bool:
        user = session.user_id
        if user is None:
            return False
        if handle == session.handle:
            await self.logout(session)
            return True
        return await self._run(
            self.flows.revoke(handle, owner=user, reason=RevokeReason.USER, client=session.client)
        )

    async def revoke(self, handle: str, *, reason: RevokeReason = RevokeReason.ADMIN) -> bool:
        return await self._run(self.flows.revoke(handle, owner=None, reason=reason))

    async def revoke_user(
        self,
        user_id: str,
        *,
        reason: RevokeReason = RevokeReason.ADMIN,
        keep: BaseSession | None = None,
    ) -> int:
        """End every session of ``user_id`` (except ``keep``, e.g. after a password change)."""
        return await self._run(self.flows.revoke_user(user_id, reason, keep))

    async def revoke_all(self) -> int:
        return await self._run(self.flows.revoke_all())

    async def purge_expired(self) -> int:
        return await self._run(self.flows.purge_expired())
