"""``SESSION_ENGINE = "sessionward.integrations.django.engine"``: Django sessions on sessionward.

:class:`SessionStore` is a real ``SessionBase``; every operation is the sessionward manager's:

* the session key is sessionward's token (the store keeps only its SHA-256); an unknown or
  malformed key is never adopted: the session starts empty and gets a new key when saved;
* ``cycle_key()`` is sessionward's rotate (the old key dies at once); ``flush()`` its logout;
* when ``django.contrib.auth`` records ``_auth_user_id`` the session is logged in as that user
  through sessionward (new token, user recorded for listing/revocation, per-user limit, events);
* idle and absolute timeouts are sessionward's policy; ``set_expiry()`` can only shorten them.

The ``a*`` methods run the sync methods through ``sync_to_async``, as Django's own database
and file backends do (one manager per process, over a synchronous store).
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
from ...manager import SessionManager
from ...session import Session
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
    ) -> None:
        super().__init__(session_key)
        self.manager = manager or conf.get_manager()
        self.client = client or ClientInfo()
        self._sw: Session | None = None
        #: a session logged out in this request (its cookie must be expired)
        self.ended: Session | None = None
        current_store.set(self)

    # -- Django keeps its data in _session_cache: here that is the sessionward session --------

    @property
    def _session_cache(self) -> Session:
        if self._sw is None:
            raise AttributeError("_session_cache")
        return self._sw

    @_session_cache.setter
    def _session_cache(self, value: Mapping[str, Any]) -> None:
        if self._sw is None and self.session_key is not None:
            self.load()
        sw = self._sw
        if sw is None:
            sw = self._sw = self.manager.new_session(self.client)
        if value is not sw:
            values = dict(value)
            sw.clear()
            sw.update(values)

    @property
    def sessionward(self) -> Session:
        """The sessionward session behind this store (loaded on first use)."""
        if self._sw is None:
            if self.session_key is None:
                self._sw = self.manager.new_session(self.client)
            else:
                self.load()
        sw = self._sw
        if sw is None:  # pragma: no cover - load() always sets it
            raise RuntimeError("session not loaded")
        return sw

    def _track(self) -> None:
        self._session_key = None if self._sw is None else self._sw.token

    # -- reading ------------------------------------------------------------------------

    def load(self) -> Session:
        """Read the session of ``session_key``; an unknown key gives an empty new session.

        A client blocked by the guessing guard simply has no session here (SessionwardMiddleware
        loads first and answers it 429).
        """
        key = self.session_key
        sw: Session | None = None
        if key is not None:
            try:
                sw = self.manager.load_token(key, self.client)
            except GuessingBlocked:
                sw = None
        return self.adopt(sw)

    def adopt(self, sw: Session | None) -> Session:
        """Use ``sw`` (as the manager loaded it) as this store's session."""
        if sw is not None and sw.record is not None and self._expired_early(sw):
            self.manager.logout(sw)
            sw = None
        if sw is None or sw.record is None:
            sw = self.manager.new_session(self.client)
        self._sw = sw
        self._track()
        return sw

    def _expired_early(self, sw: Session) -> bool:
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

    # -- writing ------------------------------------------------------------------------

    def create(self) -> None:
        """Store the current data under a new key now (even when empty)."""
        data = dict(self._sw) if self._sw is not None else {}
        sw = self.manager.new_session(self.client)
        sw.update(data)
        self.manager.create(sw)
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

    def commit(self) -> list[tuple[str, str]]:
        """Save through sessionward; return the headers the response must carry."""
        sw = self.sessionward
        self._learn_user(sw)
        headers = self.manager.commit(sw)
        self._track()
        return headers

    def _learn_user(self, sw: Session) -> None:
        """Log in through sessionward once ``django.contrib.auth`` recorded the user."""
        user = sw.get(SESSION_KEY)
        if isinstance(user, str) and user and user != sw.user_id:
            try:
                self.manager.login(sw, user)
            except SessionLimitExceeded:
                # Policy "reject_new" and the user is at the cap: the login must not stand
                # half-done (Django logged in, sessionward not), so it is undone and refused.
                self.flush()
                raise PermissionDenied(
                    "Too many active sessions for this account; sign out elsewhere first."
                ) from None
            self._track()

    def learn_user(self) -> None:
        """Called at ``user_logged_in``: new token, user recorded, limits and events now."""
        self._learn_user(self.sessionward)

    def cycle_key(self) -> None:
        """sessionward's rotate: same data and handle, a new key; the old one is dead at once."""
        sw = self.sessionward
        if sw.record is None:
            self.modified = True  # nothing stored yet, so no key to retire
            return
        self.manager.rotate(sw)
        self._track()

    async def acycle_key(self) -> None:
        await sync_to_async(self.cycle_key)()

    async def aflush(self) -> None:
        await sync_to_async(self.flush)()

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

    def flush(self) -> None:
        """sessionward's logout: the record is deleted now; the cookie is expired."""
        self.delete()
        self._sw = self.manager.new_session(self.client)
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
