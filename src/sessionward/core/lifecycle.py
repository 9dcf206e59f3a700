"""Pure lifecycle decisions: is a session still valid, does it need a touch?

Every function takes the record, the policy and ``now``; none performs I/O.
"""

from __future__ import annotations

import math
from enum import Enum

from .policy import SessionPolicy
from .records import SessionRecord


class Verdict(Enum):
    VALID = "valid"
    EXPIRED_IDLE = "idle"
    EXPIRED_ABSOLUTE = "absolute"


def absolute_deadline(record: SessionRecord, policy: SessionPolicy) -> float:
    # Counted from creation. Login creates a new record; rotation and renewal keep created_at,
    # so re-authenticating or staying busy never extends a session past this point.
    return record.created_at + policy.absolute_timeout


def idle_deadline(record: SessionRecord, policy: SessionPolicy) -> float:
    return record.last_seen_at + policy.idle_timeout


def expires_at(record: SessionRecord, policy: SessionPolicy) -> float:
    """When the server will stop honouring the session if nothing else happens."""
    return min(idle_deadline(record, policy), absolute_deadline(record, policy))


def check(record: SessionRecord, policy: SessionPolicy, now: float) -> Verdict:
    """Both clocks, every time: the absolute one wins when both have run out."""
    if now >= absolute_deadline(record, policy):
        return Verdict.EXPIRED_ABSOLUTE
    if now >= idle_deadline(record, policy):
        return Verdict.EXPIRED_IDLE
    return Verdict.VALID


def needs_touch(record: SessionRecord, policy: SessionPolicy, now: float) -> bool:
    """Whether this request should persist a new last-seen time (throttled)."""
    return now - record.last_seen_at >= policy.touch_interval


def touched(record: SessionRecord, policy: SessionPolicy, now: float) -> SessionRecord:
    seen = record.evolve(last_seen_at=now)
    return seen.evolve(expires_at=expires_at(seen, policy))


def cookie_max_age(record: SessionRecord, policy: SessionPolicy, now: float) -> int:
    """Max-Age for the cookie: rounded down, so the cookie never outlives the server record."""
    return max(0, math.floor(expires_at(record, policy) - now))
