"""Audit events: every session life-cycle change and every attacker-caused failure.

Events name a session by its public handle, or, when the presented value never matched a
session, by a short fingerprint of it (a truncated hash); the token itself never appears.
"""

from __future__ import annotations

import hashlib
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
        }


class EventSink(Protocol):
    """Receives audit events. Sinks must not block for long; a sink that raises is logged and
    ignored, it never breaks the request that caused the event."""

    def __call__(self, event: Event) -> None: ...


def fingerprint(value: str) -> str:
    """A short, non-reversible tag for a presented value that matched no session.

    Lets an operator correlate repeated guesses without recording what was presented.
    """
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()[:16]
