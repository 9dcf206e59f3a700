"""``SESSION_ENGINE = "sessionward.integrations.django.engine"``: Django sessions on sessionward.

:class:`SessionStore` is a real ``SessionBase``; every operation is the sessionward manager's:

* the session key is sessionward's token (the store keeps only its SHA-256); an unknown or
  malformed key is never adopted: the session starts empty and gets a new key when saved;
* ``cycle_key()`` is sessionward's rotate (the old key dies at once); ``flush()`` its logout;
* when ``django.contrib.auth`` records ``_auth_user_id`` the session is logged in as that user
  through sessionward (new token, user recorded for listing/revocation, per-user limit, events);
* idle and absolute timeouts are sessionward's policy; ``set_expiry()`` can only shorten them.

The ``a*`` methods are async for real: they await the ``AsyncSessionManager`` over the store's
async twin (:func:`conf.get_async_manager`), so an ASGI project does no session I/O in a thread
hop. Only when there is no async twin (``SESSIONWARD_MANAGER`` without
``SESSIONWARD_ASYNC_MANAGER``) do they run the sync methods through ``sync_to_async``.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase, UpdateError
from django.core.exceptions import PermissionDenied

from ...core.client import ClientInfo
from ...core.lifecycle import cookie_max_age
from ...errors import GuessingBlocked, SessionLimitExceeded
from ...manager import AsyncSessionManager, SessionManager
from ...session import AsyncSession, BaseSession, Session
from . import conf

SESSION_KEY = "_auth_user_id"  # django.contrib.auth's name, without importing its models
EXPIRY_KEY = "_session_expiry"

#: The session store of the request being handled (the password-change receiver keeps it).
current_store: ContextVar[SessionStore | None] = ContextVar("sessionward_store", default=None)


class SessionStore(SessionBase):  # type: ignore[misc]
    """Django's session API over one sessionward :class:`~sessionward.Session`."""

    def __init__(
        self,
        session_key: str | None = None,
        *,
        client: ClientInfo | None = None,
        manager: SessionManager | None = None,
        amanager: AsyncSessionManager | None = None,
    ) -> None:
        super().__init__(session_key)
        self.manager = manager or conf.get_manager()
        #: the async twin, given on the middleware's async path (else found on first a* call)
        self.amanager = amanager
        self.client = client or ClientInfo()
        self._sw: BaseSession | None = None
        #: a session logged out in this request (its cookie must be expired)
        self.ended: BaseSession | None = None
        current_store.set(self)

    def _new(self) -> BaseSession:
        """An empty new session, an ``AsyncSession`` on the async path."""
        if self.amanager is not None:
            return self.amanager.new_session(self.client)
        return self.manager.new_session(self.client)

    def _async_manager(self) -> AsyncSessionManager | None:
        if self.amanager is None:
            self.amanager = conf.get_async_manager()
        return self.amanager

    # -- Django keeps its data in _session_cache: here that is the sessionward session --------

    @property
    def _session_cache(self) -> BaseSession:
        if self._sw is None:
            raise AttributeError("_session_cache")
        return self._sw

    @_session_cache.setter
    def _session_cache(self, value: Mapping[str, Any]) -> None:
        if self._sw is None and self.session_key is not None:
            self.load()
        sw = self._sw
        if sw is None:
            sw = self._sw = self._new()
        if value is not sw:
            values = dict(value)
            sw.clear()
            sw.update(values)

    @property
    def sessionward(self) -> BaseSession:
        """The sessionward session behind this store (loaded on first use): an
        ``AsyncSession`` on the middleware's async path, a ``Session`` otherwise."""
        if self._sw is None:
            if self.session_key is None:
                self._sw = self._new()
            else:
                self.load()
        sw = self._sw
        if sw is None:  # pragma: no cover - load() always sets it
            raise RuntimeError("session not loaded")
        return sw

    def for_sync_view(self) -> None:
        """A sync view under ASGI: ``request.sessionward`` becomes a sync ``Session``.

        Its methods (``login()``, ``logout()``...) then run on the sync manager in the view's
        thread, as the view expects; loading and saving stay on the async manager. Both classes
        share ``BaseSession``'s state, so only the bound manager changes.
        """
        sw = self._sw
        if isinstance(sw, AsyncSession):
            sw.__class__ = Session  # type: ignore[assignment]
            sw._manager = self.manager  # type: ignore[assignment]

    def _track(self) -> None:
        self._session_key = None if self._sw is None else self._sw.token

    # -- reading ------------------------------------------------------------------------

    def load(self) -> BaseSession:
        """Read the session of ``session_key``; an unknown key gives an empty new session.

        A client blocked by the guessing guard simply has no session here (SessionwardMiddleware
        loads first and answers it 429).
        """
        key = self.session_key
        sw: BaseSession | None = None
        if key is not None:
            try:
                sw = self.manager.load_token(key, self.client)
            except GuessingBlocked:
                sw = None
        return self.adopt(sw)

    async def aload(self) -> BaseSession:
        amanager = self._async_manager()
        if amanager is None:
            return await sync_to_async(self.load)()
        key = self.session_key
        sw: BaseSession | None = None
        if key is not None:
            try:
                sw = await amanager.load_token(key, self.client)
            except GuessingBlocked:
                sw = None
        return await self.aadopt(sw)

    def adopt(self, sw: BaseSession | None) -> BaseSession:
        """Use ``sw`` (as the manager loaded it) as this store's session."""
        if self._stale(sw):
            self.manager.logout(sw)  # type: ignore[arg-type]
            sw = None
        return self._settle(sw)

    async def aadopt(self, sw: BaseSession | None) -> BaseSession:
        """:meth:`adopt` over the async manager."""
        amanager = self._async_manager()
        if amanager is None:
            return await sync_to_async(self.adopt)(sw)
        if self._stale(sw):
            await amanager.logout(sw)  # type: ignore[arg-type]
            sw = None
        return self._settle(sw)

    def _stale(self, sw: BaseSession | None) -> bool:
        return sw is not None and sw.record is not None and self._expired_early(sw)

    def _settle(self, sw: BaseSession | None) -> BaseSession:
        if sw is None or sw.record is None:
            sw = self._new()
        self._sw = sw
        self._track()
        return sw

    def _expired_early(self, sw: BaseSession) -> bool:
        """Whether a shorter expiry set with ``set_expiry()`` has passed."""
        value = sw.get(EXPIRY_KEY)
        record = sw.record
        if not value or record is None:
            return False
        now = self.manager.flows.clock.now()
        if isinstance(value, int | float) and not isinstance(value, bool):
            return record.last_seen_at + value <= now
        if isinstance(value, str):
            try:
                deadline = datetime.fromisoformat(value)
            except ValueError:
                return True  # not a value Django wrote: fail closed
            if deadline.tzinfo is None:
                return deadline <= datetime.fromtimestamp(now)
            return deadline <= datetime.fromtimestamp(now, UTC)
        return True

    def exists(self, session_key: str | None) -> bool:
        return session_key is not None and self.manager.exists(session_key)

    async def aexists(self, session_key: str | None) -> bool:
        amanager = self._async_manager()
        if amanager is None:
            return await sync_to_async(self.exists)(session_key)
        return session_key is not None and await amanager.exists(session_key)

    # -- writing ------------------------------------------------------------------------

    def create(self) -> None:
        """Store the current data under a new key now (even when empty)."""
        sw = self._fresh_copy()
        self.manager.create(sw)
        self._created(sw)

    async def acreate(self) -> None:
        amanager = self._async_manager()
        if amanager is None:
            await sync_to_async(self.create)()
            return
        sw = self._fresh_copy()
        await amanager.create(sw)
        self._created(sw)

    def _fresh_copy(self) -> BaseSession:
        data = dict(self._sw) if self._sw is not None else {}
        sw = self._new()
        sw.update(data)
        return sw

    def _created(self, sw: BaseSession) -> None:
        self._sw = sw
        self._track()
        self.modified = True

    def save(self, must_create: bool = False) -> None:
        sw = self.sessionward
        if sw.ended:
            raise UpdateError
        if sw.record is None:
            self._learn_user(sw)
            if sw.record is None:
                self.create()
            return
        self.commit()
        if sw.ended:
            # Logged out or revoked by a concurrent request: never resurrect it.
            raise UpdateError

    async def asave(self, must_create: bool = False) -> None:
        if self._async_manager() is None:
            await sync_to_async(self.save)(must_create)
            return
        if self._sw is None:
            await self._aget_session()
        sw = self.sessionward
        if sw.ended:
            raise UpdateError
        if sw.record is None:
            await self._alearn_user(sw)
            if sw.record is None:
                await self.acreate()
            return
        await self.acommit()
        if sw.ended:
            raise UpdateError

    def commit(self) -> list[tuple[str, str]]:
        """Save through sessionward; return the headers the response must carry."""
        sw = self.sessionward
        self._learn_user(sw)
        headers = self.manager.commit(sw)
        self._track()
        return headers

    async def acommit(self) -> list[tuple[str, str]]:
        """:meth:`commit` over the async manager."""
        amanager = self._async_manager()
        if amanager is None:
            return await sync_to_async(self.commit)()
        sw = self.sessionward
        await self._alearn_user(sw)
        headers = await amanager.commit(sw)
        self._track()
        return headers

    def _learn_user(self, sw: BaseSession) -> None:
        """Log in through sessionward once ``django.contrib.auth`` recorded the user."""
        user = _new_user(sw)
        if user is not None:
            try:
                self.manager.login(sw, user)
            except SessionLimitExceeded:
                # Policy "reject_new" and the user is at the cap: the login must not stand
                # half-done (Django logged in, sessionward not), so it is undone and refused.
                self.flush()
                raise _too_many() from None
            self._track()

    async def _alearn_user(self, sw: BaseSession) -> None:
        amanager = self._async_manager()
        user = _new_user(sw)
        if user is not None and amanager is not None:
            try:
                await amanager.login(sw, user)
            except SessionLimitExceeded:
                await self.aflush()
                raise _too_many() from None
            self._track()

    def learn_user(self) -> None:
        """Called at ``user_logged_in``: new token, user recorded, limits and events now.

        On the async path (``alogin()``) this waits for :meth:`asave`/:meth:`acommit`, which
        learn the user over the async manager, so no sync I/O runs there."""
        if isinstance(self._sw, AsyncSession):
            return
        self._learn_user(self.sessionward)

    async def alearn_user(self) -> None:
        """:meth:`learn_user` over the async manager."""
        await self._alearn_user(self.sessionward)

    def cycle_key(self) -> None:
        """sessionward's rotate: same data and handle, a new key; the old one is dead at once."""
        sw = self.sessionward
        if sw.record is None:
            self.modified = True  # nothing stored yet, so no key to retire
            return
        self.manager.rotate(sw)
        self._track()

    async def acycle_key(self) -> None:
        amanager = self._async_manager()
        if amanager is None:
            await sync_to_async(self.cycle_key)()
            return
        if self._sw is None:
            await self._aget_session()
        sw = self.sessionward
        if sw.record is None:
            self.modified = True
            return
        await amanager.rotate(sw)
        self._track()

    async def aflush(self) -> None:
        if self._async_manager() is None:
            await sync_to_async(self.flush)()
            return
        await self.adelete()
        self._flushed()

    def delete(self, session_key: str | None = None) -> None:
        if session_key is None or session_key == self.session_key:
            if self._sw is None and self.session_key is None:
                return
            sw = self.sessionward
            if sw.record is not None:
                self.manager.logout(sw)
                self.ended = sw
            return
        other = self.manager.load_token(session_key, self.client)
        if other.record is not None:
            self.manager.logout(other)

    async def adelete(self, session_key: str | None = None) -> None:
        amanager = self._async_manager()
        if amanager is None:
            await sync_to_async(self.delete)(session_key)
            return
        if session_key is None or session_key == self.session_key:
            if self._sw is None and self.session_key is None:
                return
            if self._sw is None:
                await self.aload()
            sw = self.sessionward
            if sw.record is not None:
                await amanager.logout(sw)
                self.ended = sw
            return
        other = await amanager.load_token(session_key, self.client)
        if other.record is not None:
            await amanager.logout(other)

    def flush(self) -> None:
        """sessionward's logout: the record is deleted now; the cookie is expired."""
        self.delete()
        self._flushed()

    def _flushed(self) -> None:
        self._sw = self._new()
        self._session_key = None
        self.accessed = True
        self.modified = True

    # -- expiry: sessionward's policy is the upper bound ----------------------------------

    def get_session_cookie_age(self) -> int:
        sw = self._sw
        policy = self.manager.policy
        if sw is not None and sw.record is not None:
            return cookie_max_age(sw.record, policy, self.manager.flows.clock.now())
        django_age = int(getattr(settings, "SESSION_COOKIE_AGE", policy.idle_timeout))
        return min(django_age, int(policy.idle_timeout))

    @classmethod
    def clear_expired(cls) -> None:
        conf.get_manager().purge_expired()

    @classmethod
    async def aclear_expired(cls) -> None:
        amanager = conf.get_async_manager()
        if amanager is None:
            await sync_to_async(cls.clear_expired)()
            return
        await amanager.purge_expired()


def _new_user(sw: BaseSession) -> str | None:
    """The user ``django.contrib.auth`` recorded, when sessionward does not know it yet."""
    user = sw.get(SESSION_KEY)
    if isinstance(user, str) and user and user != sw.user_id:
        return user
    return None


def _too_many() -> PermissionDenied:
    return PermissionDenied("Too many active sessions for this account; sign out elsewhere first.")
