"""The Store protocol: the handful of operations sessionward needs from a backend.

Invariants every implementation keeps (the contract suite in ``tests/contract`` checks them
against each store, on the real server):

* Records are keyed by SHA-256 of the token (``SessionRecord.key``); raw tokens never reach a
  store. A second unique index maps the public handle to the record.
* Reading never creates: ``get`` of an unknown key returns ``None`` and leaves nothing behind.
* Updates are deltas applied atomically to what is stored *now*: keys set or deleted by one
  request do not overwrite keys another request changed meanwhile (last writer wins per key,
  never per session). ``update`` on a missing record returns ``None`` and does not resurrect it,
  so a logout or revoke is never undone by a concurrent save.
* ``create`` with ``replaces`` deletes the old record in the same atomic step (rotation: the old
  token dies at once). With a ``limit`` it enforces the per-user session cap in that same step.
* ``renew`` moves a record to a new key as it is stored at that moment and leaves a stub
  record under the old key, in one atomic step (token renewal with a grace window).
* Stores do not judge expiry against policy; they return what they hold and the manager decides.
  ``expires_at`` is kept so stores can purge (``purge_expired``) or set TTLs.
* Infrastructure failures raise :class:`sessionward.errors.StoreUnavailable`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..core.policy import LimitPolicy
from ..core.records import SessionRecord, record_of
from ..core.slots import slot_setters
from ..errors import SessionLimitExceeded


@dataclass(frozen=True, slots=True)
class SessionLimit:
    """A per-user cap on live sessions, enforced atomically by ``Store.create``."""

    max_sessions: int
    policy: LimitPolicy = "evict_oldest"


@dataclass(frozen=True, slots=True)
class RecordUpdate:
    """A delta to apply to a stored record.

    ``last_seen_at`` and ``expires_at`` only ever move forward: of two concurrent touches the
    later time wins whichever commits last.

    ``reply_data`` is a hint: ``False`` says the caller will not read the ``data`` of the
    record ``update`` returns (the end-of-request save keeps the session's own copy), so a
    store may return that record with empty ``data`` instead of reading the data back. Every
    other field, and ``meta`` in full, is still the record as stored afterwards. A store that
    ignores the hint returns the whole record, which is always correct.
    """

    set_data: Mapping[str, Any] = field(default_factory=dict)
    delete_data: frozenset[str] = frozenset()
    set_meta: Mapping[str, Any] = field(default_factory=dict)
    last_seen_at: float | None = None
    expires_at: float | None = None
    reply_data: bool = True

    @property
    def is_empty(self) -> bool:
        return not (
            self.set_data
            or self.delete_data
            or self.set_meta
            or self.last_seen_at is not None
            or self.expires_at is not None
        )


_set_data, _set_deleted, _set_meta, _set_seen, _set_expires, _set_reply = slot_setters(RecordUpdate)


def update_of(
    set_data: Mapping[str, Any],
    delete_data: frozenset[str],
    set_meta: Mapping[str, Any],
    last_seen_at: float | None,
    expires_at: float | None,
    reply_data: bool,
) -> RecordUpdate:
    """``RecordUpdate(...)`` with every field given in order, built as
    :mod:`~sessionward.core.slots` says (the delta of every saving request)."""
    update: RecordUpdate = object.__new__(RecordUpdate)
    _set_data(update, set_data)
    _set_deleted(update, delete_data)
    _set_meta(update, set_meta)
    _set_seen(update, last_seen_at)
    _set_expires(update, expires_at)
    _set_reply(update, reply_data)
    return update


class Store(Protocol):
    """A synchronous session store. See the module docstring for the invariants."""

    def create(
        self,
        record: SessionRecord,
        *,
        now: float,
        replaces: str | None = None,
        limit: SessionLimit | None = None,
    ) -> list[SessionRecord]:
        """Insert ``record``; delete ``replaces`` atomically; enforce ``limit``.

        Returns the sessions evicted by the limit (policy ``evict_oldest``, oldest last-seen
        first). Raises :class:`~sessionward.errors.SessionLimitExceeded` for ``reject_new``,
        changing nothing. Sessions whose ``expires_at`` is past ``now`` do not count.
        """
        ...

    def get(self, key: str) -> SessionRecord | None: ...

    def get_by_handle(self, handle: str) -> SessionRecord | None: ...

    def update(self, key: str, change: RecordUpdate) -> SessionRecord | None:
        """Apply ``change``; return the record as stored afterwards, or ``None`` if gone.

        With ``change.reply_data`` false the returned record's ``data`` may be empty.
        """
        ...

    def delete(self, key: str) -> SessionRecord | None:
        """Delete one session; return what was deleted, or ``None``."""
        ...

    def list_by_user(self, user_id: str) -> list[SessionRecord]:
        """The user's sessions, most recently seen first."""
        ...

    def list_all(self, *, limit: int = 1000) -> list[SessionRecord]:
        """Sessions of every user, most recently seen first, at most ``limit``."""
        ...

    def delete_by_user(self, user_id: str, *, keep: str | None = None) -> list[SessionRecord]:
        """Delete all of a user's sessions except the one keyed ``keep``; return them."""
        ...

    def delete_all(self) -> int: ...

    def purge_expired(self, now: float) -> int:
        """Delete records whose ``expires_at`` is at or before ``now``; return how many."""
        ...

    def renew(
        self, key: str, new_key: str, stub: SessionRecord, *, handle: str
    ) -> SessionRecord | None:
        """Move the record at ``key`` (only if its handle is ``handle``) to ``new_key`` as it is
        stored now, keeping its handle, and store ``stub`` (keyed ``key``) in its place.

        Returns the moved record, or ``None``, changing nothing, when there is no such record.
        """
        ...

    def close(self) -> None: ...


class AsyncStore(Protocol):
    """The asynchronous twin of :class:`Store`, with the same methods and invariants."""

    async def create(
        self,
        record: SessionRecord,
        *,
        now: float,
        replaces: str | None = None,
        limit: SessionLimit | None = None,
    ) -> list[SessionRecord]: ...

    async def get(self, key: str) -> SessionRecord | None: ...

    async def get_by_handle(self, handle: str) -> SessionRecord | None: ...

    async def update(self, key: str, change: RecordUpdate) -> SessionRecord | None: ...

    async def delete(self, key: str) -> SessionRecord | None: ...

    async def list_by_user(self, user_id: str) -> list[SessionRecord]: ...

    async def list_all(self, *, limit: int = 1000) -> list[SessionRecord]: ...

    async def delete_by_user(
        self, user_id: str, *, keep: str | None = None
    ) -> list[SessionRecord]: ...

    async def delete_all(self) -> int: ...

    async def purge_expired(self, now: float) -> int: ...

    async def renew(
        self, key: str, new_key: str, stub: SessionRecord, *, handle: str
    ) -> SessionRecord | None: ...

    async def close(self) -> None: ...


def apply_update(record: SessionRecord, change: RecordUpdate) -> SessionRecord:
    """The reference semantics of ``RecordUpdate``, for stores that merge in Python."""
    return updated_record(record, dict(record.data), dict(record.meta), change)


def updated_record(
    record: SessionRecord, data: dict[str, Any], meta: dict[str, Any], change: RecordUpdate
) -> SessionRecord:
    """``record`` after ``change``, merged into ``data`` and ``meta`` (fresh dicts it may keep)."""
    for name in change.delete_data:
        data.pop(name, None)
    data.update(change.set_data)
    meta.update(change.set_meta)
    last_seen = record.last_seen_at
    if change.last_seen_at is not None and change.last_seen_at > last_seen:
        last_seen = change.last_seen_at
    expires = record.expires_at
    if change.expires_at is not None and change.expires_at > expires:
        expires = change.expires_at
    return record_of(
        record.key,
        record.handle,
        record.user_id,
        record.created_at,
        last_seen,
        expires,
        record.authenticated_at,
        record.origin,
        record.ip,
        record.user_agent,
        data,
        meta,
    )


def select_evictions(
    live: list[SessionRecord], limit: SessionLimit, user_id: str
) -> list[SessionRecord]:
    """Which of a user's live sessions must go so that one more fits under ``limit``.

    Raises ``SessionLimitExceeded`` for the ``reject_new`` policy when the user is at the cap.
    """
    excess = len(live) + 1 - limit.max_sessions
    if excess <= 0:
        return []
    if limit.policy == "reject_new":
        raise SessionLimitExceeded(user_id, limit.max_sessions)
    return sorted(live, key=lambda r: (r.last_seen_at, r.created_at))[:excess]


#: The columns of a stored session, in the order :func:`record_row` and :func:`row_record` use.
RECORD_COLUMNS = (
    "key",
    "handle",
    "user_id",
    "created_at",
    "last_seen_at",
    "expires_at",
    "authenticated_at",
    "origin",
    "ip",
    "user_agent",
    "data",
    "meta",
)


def record_row(
    record: SessionRecord, data: Callable[[Mapping[str, Any]], Any], meta: Callable[[Any], Any]
) -> tuple[Any, ...]:
    """A record as column values (:data:`RECORD_COLUMNS`); ``data``/``meta`` encode those two."""
    return (
        record.key,
        record.handle,
        record.user_id,
        record.created_at,
        record.last_seen_at,
        record.expires_at,
        record.authenticated_at,
        record.origin,
        record.ip,
        record.user_agent,
        data(record.data),
        meta(record.meta),
    )


def row_record(
    row: Sequence[Any], data: Callable[[Any], Any], meta: Callable[[Any], Any]
) -> SessionRecord:
    """The inverse of :func:`record_row`: ``data``/``meta`` decode those two columns."""
    key, handle, user_id, created, seen, expires, authenticated, origin, ip, agent = row[:10]
    return record_of(
        key,
        handle,
        user_id,
        created,
        seen,
        expires,
        authenticated,
        origin,
        ip,
        agent,
        data(row[10]),
        meta(row[11]),
    )
