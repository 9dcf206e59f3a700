"""Audit events: every session life-cycle change and every attacker-caused failure.

Events name a session by its public handle, or, when the presented value never matched a
session, by a short fingerprint of it (a truncated hash); the token itself never appears.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class EventKind(StrEnum):
    SESSION_CREATED = "session.created"
    LOGIN_SUCCEEDED = "login.succeeded"
    LOGIN_FAILED = "login.failed"
    ROTATED = "session.rotated"
    RENEWED = "session.renewed"
    EXPIRED_IDLE = "session.expired.idle"
    EXPIRED_ABSOLUTE = "session.expired.absolute"
    LOGOUT = "session.logout"
    REVOKED = "session.revoked"
    LIMIT_REJECTED = "session.limit.rejected"
    UNKNOWN_ID = "session.id.unknown"
    MALFORMED_ID = "session.id.malformed"
    CSRF_REJECTED = "csrf.rejected"
    ANOMALY = "session.anomaly"
    REAUTHENTICATED = "session.reauthenticated"
    TOKEN_ISSUED = "token.issued"  # noqa: S105 (an event name)
    TOKEN_REFRESHED = "token.refreshed"  # noqa: S105
    TOKEN_REJECTED = "token.rejected"  # noqa: S105
    REFRESH_REUSED = "token.refresh.reused"
    NEW_DEVICE = "login.new_device"
    # Device-bound sessions (sessionward.binding): reason says which check failed.
    BINDING_REGISTERED = "binding.registered"
    BINDING_REFRESHED = "binding.refreshed"
    BINDING_FAILED = "binding.failed"
    BINDING_MISMATCH = "binding.mismatch"


class RevokeReason(StrEnum):
    USER = "user"
    ADMIN = "admin"
    LIMIT = "limit"
    ANOMALY = "anomaly"
    LOGOUT_EVERYWHERE = "logout_everywhere"


@dataclass(frozen=True, slots=True)
class Event:
    kind: EventKind
    at: float
    user_id: str | None = None
    handle: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    reason: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    #: A readable label of the client's device ("Firefox 130 on Linux"), for display only.
    device: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "at": self.at,
            "user_id": self.user_id,
            "handle": self.handle,
            "ip": self.ip,
            "user_agent": self.user_agent,
            "reason": self.reason,
            "detail": dict(self.detail),
            "device": self.device,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Event:
        """The inverse of :meth:`as_dict` (audit logs store events as JSON)."""
        detail = data.get("detail") or {}
        return cls(
            kind=EventKind(data["kind"]),
            at=float(data["at"]),
            user_id=data.get("user_id"),
            handle=data.get("handle"),
            ip=data.get("ip"),
            user_agent=data.get("user_agent"),
            reason=data.get("reason"),
            detail=dict(detail) if isinstance(detail, Mapping) else {},
            device=data.get("device"),
        )


class EventSink(Protocol):
    """Receives audit events. A sink that raises is logged and ignored, it never breaks the
    request that caused the event. Under an async manager a sync sink runs on a worker thread
    (unless it sets ``inline = True``), so it may block without stalling the event loop."""

    def __call__(self, event: Event) -> None: ...


class AsyncEventSink(Protocol):
    """The asynchronous twin of :class:`EventSink`, for :class:`AsyncSessionManager` only.

    Each event is delivered in a task of its own on the manager's loop (the request does not
    wait for it); ``aclose()`` on the manager awaits the deliveries still pending.
    """

    async def __call__(self, event: Event) -> None: ...


#: Either kind of sink (what :class:`AsyncSessionManager` accepts).
AnyEventSink = EventSink | AsyncEventSink


#: The default key of :func:`fingerprint`. Public, so it only separates fingerprints from store
#: keys (a plain SHA-256 prefix would be a prefix of the store key of a real token); pass a
#: secret key to make fingerprints unlinkable for anyone who does not hold it.
DEFAULT_FINGERPRINT_KEY = b"sessionward.fingerprint.v1"


def fingerprint(value: str, key: bytes = DEFAULT_FINGERPRINT_KEY) -> str:
    """A short, keyed, non-reversible tag for a presented value that matched no session.

    Lets an operator correlate repeated guesses without recording what was presented.
    """
    mac = hmac.new(key, value.encode("utf-8", "surrogateescape"), hashlib.sha256)
    return mac.hexdigest()[:16]
