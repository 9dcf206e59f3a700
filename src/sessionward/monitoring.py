"""What sessionward reports and how you watch it: events, sinks, audit logs, anomaly rules,
devices and the metrics hook.

Everything here is optional: a manager without sinks or :class:`Monitoring` settings works and
emits nothing. Prometheus metrics need the ``metrics`` extra and live in
:mod:`sessionward.metrics` (``PrometheusSink``); the Redis and PostgreSQL audit logs live in
:mod:`sessionward.audit.redis` and :mod:`sessionward.audit.postgres` so that their drivers stay
optional.
"""

from __future__ import annotations

from .audit import (
    AsyncAuditLog,
    AsyncAuditSink,
    AsyncNewDeviceHook,
    AsyncNewDeviceNotifier,
    AuditEntry,
    AuditLog,
    AuditSink,
    MemoryAuditLog,
    NewDeviceHook,
    NewDeviceNotifier,
    NewDeviceRules,
    SQLiteAuditLog,
    ThreadedAsyncAuditLog,
)
from .core.anomaly import AnomalyRules
from .core.devices import Device, DeviceLabeler, UAParserLabeler
from .core.events import AsyncEventSink, Event, EventKind, EventSink, RevokeReason
from .core.guessing import GuessingRule
from .core.monitoring import Monitoring
from .sinks import LoggingSink, MemorySink

__all__ = [
    "AnomalyRules",
    "AsyncAuditLog",
    "AsyncAuditSink",
    "AsyncEventSink",
    "AsyncNewDeviceHook",
    "AsyncNewDeviceNotifier",
    "AuditEntry",
    "AuditLog",
    "AuditSink",
    "Device",
    "DeviceLabeler",
    "Event",
    "EventKind",
    "EventSink",
    "GuessingRule",
    "LoggingSink",
    "MemoryAuditLog",
    "MemorySink",
    "Monitoring",
    "NewDeviceHook",
    "NewDeviceNotifier",
    "NewDeviceRules",
    "RevokeReason",
    "SQLiteAuditLog",
    "ThreadedAsyncAuditLog",
    "UAParserLabeler",
]
