"""The AuditLog protocol: a persistent, queryable record of session events.

An audit log is separate from the session store on purpose: sessions are short-lived and
deleted when they end, while their history must outlive them ("who logged in as alice last
week, from where?"). Each implementation lives in its own module (memory, SQLite, Redis,
PostgreSQL) and usually shares the server of the session store.

Invariants every implementation keeps (``tests/monitoring/test_audit_log.py`` checks them on
each, against the real server):

* ``append`` stores the event as JSON (never pickle); what comes back from a query equals what
  went in, field for field. Events carry handles or keyed hashes, never tokens.
* ``query`` returns the newest events first, filtered by user, session handle, kinds and a
  start time, at most ``limit``.
* ``tail`` returns events in the order they were appended, after an opaque cursor (the ``id`` of
  an entry it returned before), so ``sessionward audit tail --follow`` can poll.
* Infrastructure failures raise :class:`~sessionward.errors.StoreUnavailable`. Used as a sink
  through :class:`AuditSink`, such a failure is logged and never breaks the request.

Logs are synchronous; :mod:`sessionward.audit.aio` holds the async side. Under an
:class:`~sessionward.AsyncSessionManager` a sync :class:`AuditSink` runs on the sink worker thread
(see :mod:`sessionward.sink_dispatch`), never on the event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from typing import Any, Protocol

from ..core.devices import DeviceLabeler, default_labeler
from ..core.events import Event, EventKind
from ..errors import ConfigurationError

MAX_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One stored event and its id in the log (an opaque string, increasing per log)."""

    id: str
    event: Event


class AuditLog(Protocol):
    """A persistent, queryable audit trail. See the module docstring for the invariants."""

    def append(self, event: Event) -> None: ...

    def query(
        self,
        *,
        user_id: str | None = None,
        handle: str | None = None,
        kinds: Collection[EventKind] | None = None,
        since: float | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """Matching events, newest first, at most ``limit``."""
        ...

    def tail(self, *, after: str | None = None, limit: int = 100) -> list[AuditEntry]:
        """Events appended after the entry ``after`` (oldest first); without ``after``, the
        last ``limit`` events, oldest first."""
        ...

    def close(self) -> None: ...


def check_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ConfigurationError(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return limit


def matches(
    event: Event,
    *,
    user_id: str | None,
    handle: str | None,
    kinds: Collection[EventKind] | None,
    since: float | None,
) -> bool:
    """The query filter, for logs that filter in Python."""
    return (
        (user_id is None or event.user_id == user_id)
        and (handle is None or event.handle == handle)
        and (kinds is None or event.kind in kinds)
        and (since is None or event.at >= since)
    )


class AuditSink:
    """An :class:`~sessionward.core.events.EventSink` that appends every event to a log."""

    def __init__(self, log: AuditLog) -> None:
        self.log = log

    def __repr__(self) -> str:
        return f"AuditSink({self.log!r})"

    def __call__(self, event: Event) -> None:
        self.log.append(event)


NewDeviceHook = Callable[[Event], None]


class NewDeviceRules:
    """What decides "a new device", shared by the sync and the async notifier (no I/O)."""

    def __init__(
        self,
        *,
        labeler: DeviceLabeler | str | None = "auto",
        lookback: int = 500,
        notify_first_login: bool = False,
    ) -> None:
        self.labeler = default_labeler() if isinstance(labeler, str) else labeler
        self.lookback = check_limit(lookback)
        self.notify_first_login = notify_first_login

    def device_key(self, event: Event) -> str:
        if self.labeler is not None:
            device = self.labeler(event.user_agent)
            if device is not None:
                return device.key
        return event.user_agent or ""

    def watches(self, event: Event) -> bool:
        """Whether ``event`` is a login to judge (the only events this sink reads the log for)."""
        return event.kind is EventKind.LOGIN_SUCCEEDED and event.user_id is not None

    def lookup(self, event: Event) -> dict[str, Any]:
        """The ``query`` arguments that find the user's earlier logins."""
        return {
            "user_id": event.user_id,
            "kinds": {EventKind.LOGIN_SUCCEEDED},
            "limit": self.lookback,
        }

    def judge(self, event: Event, history: list[AuditEntry]) -> Event | None:
        """The ``login.new_device`` event to record and notify, or ``None`` for a known device."""
        earlier = [entry.event for entry in history if entry.event.handle != event.handle]
        if not earlier and not self.notify_first_login:
            return None
        key = self.device_key(event)
        if any(self.device_key(e) == key for e in earlier):
            return None
        return replace(event, kind=EventKind.NEW_DEVICE, reason="new device")


class NewDeviceNotifier(NewDeviceRules):
    """An event sink that calls ``notify`` when a user logs in from a device not seen before.

    "Device" is the browser, OS and device family from the User-Agent, without versions (a
    browser update is not a new device); without ua-parser it is the whole User-Agent. The
    user's earlier successful logins are looked up in ``log``; a user's very first login is not
    reported unless ``notify_first_login``. For a new device, a ``login.new_device`` event is
    appended to the log (it shows in the login history) and passed to ``notify`` - send the
    e-mail there. Put this sink after the :class:`AuditSink` or before it: it ignores the login
    being judged.

    Like everything derived from a User-Agent this is a hint for the user, not a security
    boundary: an attacker can copy the victim's User-Agent.
    """

    def __init__(
        self,
        log: AuditLog,
        notify: NewDeviceHook,
        *,
        labeler: DeviceLabeler | str | None = "auto",
        lookback: int = 500,
        notify_first_login: bool = False,
    ) -> None:
        super().__init__(labeler=labeler, lookback=lookback, notify_first_login=notify_first_login)
        self.log = log
        self.notify = notify

    def __call__(self, event: Event) -> None:
        if not self.watches(event):
            return
        news = self.judge(event, self.log.query(**self.lookup(event)))
        if news is not None:
            self.log.append(news)
            self.notify(news)
