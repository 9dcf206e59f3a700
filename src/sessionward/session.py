"""The request-scoped session object an application sees.

A session behaves like a ``dict`` of JSON values. Changes are found by comparing against a
snapshot taken at load, so mutating a nested list or dict in place is saved too, and only the
keys that changed are written (see ``RecordUpdate``): two concurrent requests that change
different keys both keep their change.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, MutableMapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .core.client import ClientInfo
from .core.codec import JSON_CODEC, Codec
from .core.records import SessionRecord, encode_data
from .errors import SessionDataError

if TYPE_CHECKING:
    from .manager import AsyncSessionManager, SessionManager


# -- what happened to a session: the flows say it, the session applies it -----------------


@dataclass(frozen=True, slots=True)
class Adopted:
    """The session is now ``record`` under ``token`` (loaded, created, logged in, rotated,
    renewed). ``new_cookie``: the browser must be sent the token."""

    record: SessionRecord
    token: str
    new_cookie: bool = False


@dataclass(frozen=True, slots=True)
class Saved:
    """The store now holds ``record``: what the session has is no longer a change.

    ``record`` is the store's reply to the save, whose ``data`` may be empty
    (``RecordUpdate.reply_data``): the session's own data is what it keeps. ``changed`` and
    ``deleted``, when given, are the keys that save wrote (``pending_changes``): only those
    are copied into the change baseline instead of the whole session.
    """

    record: SessionRecord
    changed: Collection[str] | None = None
    deleted: Collection[str] = ()


@dataclass(frozen=True, slots=True)
class Ended:
    """The session ended (logout, revoked meanwhile): no record, no token, no data."""


Outcome = Adopted | Saved | Ended


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """What a user or operator may see of a session: no data, no token, no key."""

    handle: str
    user_id: str | None
    created_at: float
    last_seen_at: float
    expires_at: float
    authenticated_at: float | None
    ip: str | None
    user_agent: str | None
    origin: str
    current: bool = False
    #: readable device label ("Firefox 130 on Linux"), display only; ``None`` if unknown.
    device: str | None = None
    #: the address the session was most recently used from (``ip`` is where it started).
    last_ip: str | None = None
    #: anomaly rules that fired on this session (e.g. ``("ip_change",)``).
    flags: tuple[str, ...] = ()

    @classmethod
    def of(cls, record: SessionRecord, *, current_handle: str | None = None) -> SessionInfo:
        device = record.meta.get("device")
        last_ip = record.meta.get("last_ip")
        flags = record.meta.get("flags") or ()
        return cls(
            handle=record.handle,
            user_id=record.user_id,
            created_at=record.created_at,
            last_seen_at=record.last_seen_at,
            expires_at=record.expires_at,
            authenticated_at=record.authenticated_at,
            ip=record.ip,
            user_agent=record.user_agent,
            origin=record.origin,
            current=record.handle == current_handle,
            device=device if isinstance(device, str) else None,
            last_ip=last_ip if isinstance(last_ip, str) else record.ip,
            flags=tuple(f for f in flags if isinstance(f, str)),
        )


def _snapshot(data: dict[str, Any]) -> dict[str, Any]:
    """An independent copy to detect changes against, including in-place nested mutation.

    Strings, numbers, booleans and ``None`` are immutable and shared; only lists and dicts are
    copied (recursively). Typical sessions hold a few scalars, so this is a dict copy.
    """
    copy = dict(data)
    for key, value in copy.items():
        if isinstance(value, (dict, list)):  # a tuple: faster than a union
            copy[key] = _copy(value)
    return copy


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


class BaseSession(MutableMapping[str, Any]):
    """State shared by :class:`Session` and :class:`AsyncSession`.

    Values are checked by the policy's codec when they are assigned: one JSON cannot keep
    raises ``TypeError`` naming the key, at the line that assigned it.

    ``clear()`` ends the session: a stored session is destroyed when the response is committed
    (a logged-in user is logged out, and the token dies), exactly like ``logout()``; anything
    written afterwards in the same request lands in a fresh anonymous session.
    """

    #: Per-session cookie choices a framework shell may set (``None``: the CookieConfig's).
    persistent: bool | None = None
    #: Upper bound on the cookie's Max-Age in seconds (e.g. Flask's PERMANENT_SESSION_LIFETIME).
    cookie_lifetime: float | None = None
    #: Whether a last-seen touch re-sends a persistent cookie with a fresh Max-Age.
    refresh_cookie: bool = True

    def __init__(
        self,
        client: ClientInfo,
        record: SessionRecord | None = None,
        token: str | None = None,
        *,
        codec: Codec = JSON_CODEC,
    ) -> None:
        self.client = client
        self._codec = codec
        self._data: dict[str, Any] = {}
        self._original: dict[str, Any] = {}
        self._record: SessionRecord | None = None
        self._token: str | None = None
        self._pending: Callable[[], tuple[SessionRecord | None, str | None]] | None = None
        self._ending: tuple[SessionRecord, str | None] | None = None
        self.accessed = False
        self.cookie_changed = False
        self.ended = False
        if record is not None and token is not None:
            self._adopt(record, token)

    # -- the state machine: the flows read these and hand back an Outcome ---------------

    def apply(self, outcome: Outcome) -> None:
        """Move to the state ``outcome`` describes (called by the flows and the shells)."""
        if isinstance(outcome, Adopted):
            self._adopt(outcome.record, outcome.token)
            self.cookie_changed = self.cookie_changed or outcome.new_cookie
        elif isinstance(outcome, Saved):
            self._record = outcome.record
            if outcome.changed is None:
                self._original = _snapshot(self._data)
            else:  # the baseline already equals the data in every key the save did not write
                data, original = self._data, self._original
                for key in outcome.deleted:
                    original.pop(key, None)
                for key in outcome.changed:
                    value = data.get(key, _MISSING)
                    if value is _MISSING:  # gone meanwhile (a renewal followed in between)
                        original.pop(key, None)
                    else:
                        original[key] = _copy(value)
        else:
            self._end()

    def take_ending(self) -> tuple[SessionRecord, str | None] | None:
        """The stored session ``clear()`` ended, to destroy now; asked once."""
        ending, self._ending = self._ending, None
        return ending

    def pending_changes(self) -> tuple[dict[str, Any], frozenset[str]]:
        """Changed keys (in their stored JSON form) and deleted keys since load."""
        if self._pending is not None:
            self._resolve()
        data, original = self._data, self._original
        if data == original:  # the common read-only request: one C comparison
            return {}, frozenset()
        changed: dict[str, Any] = {}
        for key, value in data.items():
            if original.get(key, _MISSING) != value:
                changed[key] = value
        return self._encoded(changed), frozenset(original.keys() - data.keys())

    def data_to_store(self, keep: tuple[str, ...] | None = None) -> dict[str, Any]:
        """All the data (or the ``keep`` keys) in its stored JSON form."""
        if self._pending is not None:
            self._resolve()
        if keep is None:
            return self._encoded(self._data)
        return self._encoded({k: v for k, v in self._data.items() if k in keep})

    def check_size(self, max_bytes: int) -> None:
        """Raise ``SessionDataError`` if all the data, stored, would be over ``max_bytes``.

        Call it after :meth:`pending_changes`: with the ``json`` codec every value is its own
        stored form and ``pending_changes`` has checked each one that changed, so the data is
        encoded as it is, without a copy in stored form first.
        """
        data = self._data if self._codec.name == "json" else self.data_to_store()
        encode_data(data, max_bytes=max_bytes)

    # -- state the manager maintains ----------------------------------------------------

    def _defer(self, loader: Callable[[], tuple[SessionRecord | None, str | None]]) -> None:
        """Load lazily: ``loader`` runs at the first use of the session, never otherwise."""
        self._pending = loader

    @property
    def loaded(self) -> bool:
        """False while a deferred load has not run (nothing has used the session yet)."""
        return self._pending is None

    def _resolve(self) -> None:
        loader, self._pending = self._pending, None
        if loader is not None:
            record, token = loader()
            if record is not None and token is not None:
                self._adopt(record, token)

    def _adopt(self, record: SessionRecord, token: str) -> None:
        self._pending = None
        self._record = record
        self._token = token
        self._data = self._codec.decode_values(record.data)
        self._original = _snapshot(self._data)

    def _end(self) -> None:
        self._pending = None
        self._record = None
        self._token = None
        self._data = {}
        self._original = {}
        self.ended = True
        self.accessed = True

    def _encoded(self, values: dict[str, Any]) -> dict[str, Any]:
        """A new dict of ``values`` in their stored form."""
        try:
            return self._codec.encode_values(values)
        except TypeError as exc:
            # Assignment checks the value, but a list or dict mutated in place is only seen now.
            raise SessionDataError(f"session data cannot be stored as JSON: {exc}") from exc

    @property
    def record(self) -> SessionRecord | None:
        if self._pending is not None:
            self._resolve()
        return self._record

    @property
    def token(self) -> str | None:
        """The bearer token (for the cookie writer only; never log it)."""
        if self._pending is not None:
            self._resolve()
        return self._token

    # -- public, read-only facts --------------------------------------------------------

    @property
    def user_id(self) -> str | None:
        self.accessed = True
        record = self.record
        return None if record is None else record.user_id

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def handle(self) -> str | None:
        """The public handle of this session (``None`` until it is stored)."""
        record = self.record
        return None if record is None else record.handle

    @property
    def authenticated_at(self) -> float | None:
        record = self.record
        return None if record is None else record.authenticated_at

    @property
    def is_new(self) -> bool:
        return self.record is None

    # -- the mapping --------------------------------------------------------------------

    def __getitem__(self, name: str) -> Any:
        self.accessed = True
        if self._pending is not None:
            self._resolve()
        return self._data[name]

    def get(self, key: str, default: Any = None) -> Any:
        # Mapping.get, without its detour through __getitem__ and KeyError (the hot path).
        self.accessed = True
        if self._pending is not None:
            self._resolve()
        return self._data.get(key, default)

    def __setitem__(self, name: str, value: Any) -> None:
        if not isinstance(name, str):
            raise TypeError(f"session keys must be strings, not {type(name).__name__}")
        self._codec.encode(name, value)  # TypeError here, naming the key, not at save time
        self.accessed = True
        if self._pending is not None:
            self._resolve()
        self._data[name] = value

    def __delitem__(self, name: str) -> None:
        self.accessed = True
        self._resolve()
        del self._data[name]

    def __iter__(self) -> Iterator[str]:
        self.accessed = True
        self._resolve()
        return iter(self._data)

    def __len__(self) -> int:
        self.accessed = True
        self._resolve()
        return len(self._data)

    def __contains__(self, name: object) -> bool:
        self.accessed = True
        self._resolve()
        return name in self._data

    def clear(self) -> None:
        """End the session (see the class docstring); a new one starts if data is written."""
        self.accessed = True
        self._resolve()
        if self._record is None:
            self._data.clear()
            return
        self._ending = (self._record, self._token)
        self._end()

    def __repr__(self) -> str:
        if not self.loaded:
            return f"<{type(self).__name__} not loaded>"
        state = "ended" if self.ended else ("new" if self.is_new else f"handle={self.handle}")
        return f"<{type(self).__name__} {state} user={self._record and self._record.user_id!r}>"


_MISSING = object()


class Session(BaseSession):
    """A session in a synchronous (WSGI) app, with its operations bound to its manager."""

    def __init__(
        self,
        manager: SessionManager,
        client: ClientInfo,
        record: SessionRecord | None = None,
        token: str | None = None,
    ) -> None:
        self._manager = manager
        super().__init__(client, record, token, codec=manager.flows.policy.value_codec)

    def login(self, user_id: str, *, keep: tuple[str, ...] | None = None) -> None:
        """Authenticate as ``user_id`` under a brand-new token; the old one dies at once."""
        self._manager.login(self, user_id, keep=keep)

    def rotate(self) -> None:
        """New token for the same session (re-authentication, privilege change)."""
        self._manager.rotate(self)

    def needs_reauthentication(self, max_age: float | timedelta) -> bool:
        """True when a sensitive action must first ask for the password again."""
        return self._manager.needs_reauthentication(self, max_age)

    def reauthenticate(self) -> None:
        """The user re-entered their password: new token, fresh authentication time."""
        self._manager.reauthenticate(self)

    def logout(self) -> None:
        self._manager.logout(self)

    def logout_everywhere(self) -> int:
        return self._manager.logout_everywhere(self)

    def sessions(self) -> list[SessionInfo]:
        """This user's live sessions, the current one marked."""
        return self._manager.sessions_of_current(self)

    def revoke(self, handle: str) -> bool:
        """End another session of the same user, named by its handle."""
        return self._manager.revoke_own(self, handle)


class AsyncSession(BaseSession):
    """A session in an async (ASGI) app, with its operations bound to its manager."""

    def __init__(
        self,
        manager: AsyncSessionManager,
        client: ClientInfo,
        record: SessionRecord | None = None,
        token: str | None = None,
    ) -> None:
        self._manager = manager
        super().__init__(client, record, token, codec=manager.flows.policy.value_codec)

    async def login(self, user_id: str, *, keep: tuple[str, ...] | None = None) -> None:
        """Authenticate as ``user_id`` under a brand-new token; the old one dies at once."""
        await self._manager.login(self, user_id, keep=keep)

    async def rotate(self) -> None:
        """New token for the same session (re-authentication, privilege change)."""
        await self._manager.rotate(self)

    def needs_reauthentication(self, max_age: float | timedelta) -> bool:
        """True when a sensitive action must first ask for the password again."""
        return self._manager.needs_reauthentication(self, max_age)

    async def reauthenticate(self) -> None:
        """The user re-entered their password: new token, fresh authentication time."""
        await self._manager.reauthenticate(self)

    async def logout(self) -> None:
        await self._manager.logout(self)

    async def logout_everywhere(self) -> int:
        return await self._manager.logout_everywhere(self)

    async def sessions(self) -> list[SessionInfo]:
        """This user's live sessions, the current one marked."""
        return await self._manager.sessions_of_current(self)

    async def revoke(self, handle: str) -> bool:
        """End another session of the same user, named by its handle."""
        return await self._manager.revoke_own(self, handle)
