"""Persistent, queryable audit logs of session events (see :mod:`sessionward.audit.base`).

``MemoryAuditLog`` and ``SQLiteAuditLog`` need nothing beyond the standard library and are
exported here; the Redis and PostgreSQL logs live in :mod:`sessionward.audit.redis` and
:mod:`sessionward.audit.postgres` so that their drivers stay optional.
"""

from __future__ import annotations

from .base import AuditEntry, AuditLog, AuditSink, NewDeviceHook, NewDeviceNotifier
from .memory import MemoryAuditLog
from .sqlite import SQLiteAuditLog

__all__ = [
    "AuditEntry",
    "AuditLog",
    "AuditSink",
    "MemoryAuditLog",
    "NewDeviceHook",
    "NewDeviceNotifier",
    "SQLiteAuditLog",
]
