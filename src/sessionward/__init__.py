"""sessionward: secure server-side sessions for Python web applications.

The public API is what this module lists in ``__all__``; everything else is internal.
"""

from __future__ import annotations

from .audit import (
    AuditEntry,
    AuditLog,
    AuditSink,
    MemoryAuditLog,
    NewDeviceNotifier,
    SQLiteAuditLog,
)
from .core.anomaly import AnomalyRules, GuessingRule
from .core.client import ClientInfo
from .core.clock import SYSTEM_CLOCK, Clock, SystemClock
from .core.cookies import CookieConfig
from .core.devices import Device, UAParserLabeler
from .core.events import Event, EventKind, EventSink, RevokeReason
from .core.headers import SecurityHeaders
from .core.keys import Secret, SecretKeyRing
from .core.login_limits import LoginLimits
from .core.monitoring import Monitoring
from .core.policy import SessionPolicy
from .core.proxies import TrustedProxies
from .core.records import SessionRecord
from .errors import (
    ConfigurationError,
    GuessingBlocked,
    SessionDataError,
    SessionLimitExceeded,
    SessionwardError,
    StoreError,
    StoreUnavailable,
)
from .limiter import AsyncLoginLimiter, LoginLimiter
from .manager import AsyncSessionManager, SessionManager
from .session import AsyncSession, Session, SessionInfo
from .sinks import LoggingSink, MemorySink
from .stores.base import AsyncStore, RecordUpdate, SessionLimit, Store
from .stores.memory import MemoryStore
from .stores.sqlite import AsyncSQLiteStore, SQLiteStore
from .stores.threaded import AsyncMemoryStore, ThreadedAsyncStore

__version__ = "0.1.0"

__all__ = [
    "SYSTEM_CLOCK",
    "AnomalyRules",
    "AsyncLoginLimiter",
    "AsyncMemoryStore",
    "AsyncSQLiteStore",
    "AsyncSession",
    "AsyncSessionManager",
    "AsyncStore",
    "AuditEntry",
    "AuditLog",
    "AuditSink",
    "ClientInfo",
    "Clock",
    "ConfigurationError",
    "CookieConfig",
    "Device",
    "Event",
    "EventKind",
    "EventSink",
    "GuessingBlocked",
    "GuessingRule",
    "LoggingSink",
    "LoginLimiter",
    "LoginLimits",
    "MemoryAuditLog",
    "MemorySink",
    "MemoryStore",
    "Monitoring",
    "NewDeviceNotifier",
    "RecordUpdate",
    "RevokeReason",
    "SQLiteAuditLog",
    "SQLiteStore",
    "Secret",
    "SecretKeyRing",
    "SecurityHeaders",
    "Session",
    "SessionDataError",
    "SessionInfo",
    "SessionLimit",
    "SessionLimitExceeded",
    "SessionManager",
    "SessionPolicy",
    "SessionRecord",
    "SessionwardError",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "SystemClock",
    "ThreadedAsyncStore",
    "TrustedProxies",
    "UAParserLabeler",
    "__version__",
]
