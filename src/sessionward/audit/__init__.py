"""Persistent, queryable audit logs of session events (see :mod:`sessionward.audit.base`).

``MemoryAuditLog`` and ``SQLiteAuditLog`` need nothing beyond the standard library and are
exported here; the Redis and PostgreSQL logs live in :mod:`sessionward.audit.redis` and
:mod:`sessionward.audit.postgres` so that their drivers stay optional. The async side (for
``AsyncSessionManager``) is in :mod:`sessionward.audit.aio`, also exported here.
"""

from __future__ import annotations

from .aio import (
    AsyncAuditLog,
    AsyncAuditSink,
    AsyncNewDeviceHook,
    AsyncNewDeviceNotifier,
    ThreadedAsyncAuditLog,
)
from .base import (
    AuditEntry,
    AuditLog,
    AuditSink,
    NewDeviceHook,
    NewDeviceNotifier,
    NewDeviceRules,
)
from .memory import MemoryAuditLog
from .sqlite import SQLiteAuditLog

__all__ = [
    "AsyncAuditLog",
    "AsyncAuditSink",
    "AsyncNewDeviceHook",
    "AsyncNewDeviceNotifier",
    "AuditEntry",
    "AuditLog",
    "AuditSink",
    "MemoryAuditLog",
    "NewDeviceHook",
    "NewDeviceNotifier",
    "NewDeviceRules",
    "SQLiteAuditLog",
    "ThreadedAsyncAuditLog",
]
