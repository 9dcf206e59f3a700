"""sessionward: secure server-side sessions for Python web applications.

The public API is layered by audience:

* :mod:`sessionward` (this module): what an application needs: the managers and sessions, the
  policy, cookie and header settings, secrets, the login limiter, the errors, the common stores
  and the middleware entry points;
* :mod:`sessionward.stores`: the Store protocols and the values a store implementer handles;
* :mod:`sessionward.monitoring`: events, sinks, audit logs, anomaly rules, devices;
* :mod:`sessionward.tokens`: access and refresh tokens for APIs (extra ``jwt``);
* framework modules: :mod:`sessionward.integrations.fastapi`, ``.flask``, ``.django``.

Each lists its names in ``__all__``; everything else is internal. Names that this module
exported before 0.2 and that moved to ``stores`` or ``monitoring`` still work from here for one
release, with a ``DeprecationWarning`` saying where they went.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .core.client import ClientInfo
from .core.clock import SYSTEM_CLOCK, Clock, SystemClock
from .core.cookies import CookieConfig
from .core.headers import SecurityHeaders
from .core.keys import Secret, SecretKeyRing
from .core.login_limits import LoginLimits
from .core.policy import SessionPolicy
from .core.proxies import TrustedProxies
from .deprecations import moved_names as _moved_names
from .errors import (
    ConfigurationError,
    GuessingBlocked,
    SessionDataError,
    SessionLimitExceeded,
    SessionwardError,
    StoreError,
    StoreUnavailable,
)
from .integrations.asgi import SessionMiddleware
from .integrations.wsgi import WSGISessionMiddleware
from .limiter import AsyncLoginLimiter, LoginLimiter
from .manager import AsyncSessionManager, SessionManager
from .session import AsyncSession, Session, SessionInfo
from .stores.memory import MemoryStore
from .stores.sqlite import AsyncSQLiteStore, SQLiteStore
from .stores.threaded import AsyncMemoryStore

__version__ = "0.1.0"

__all__ = [
    "SYSTEM_CLOCK",
    "AsyncLoginLimiter",
    "AsyncMemoryStore",
    "AsyncSQLiteStore",
    "AsyncSession",
    "AsyncSessionManager",
    "ClientInfo",
    "Clock",
    "ConfigurationError",
    "CookieConfig",
    "GuessingBlocked",
    "LoginLimiter",
    "LoginLimits",
    "MemoryStore",
    "SQLiteStore",
    "Secret",
    "SecretKeyRing",
    "SecurityHeaders",
    "Session",
    "SessionDataError",
    "SessionInfo",
    "SessionLimitExceeded",
    "SessionManager",
    "SessionMiddleware",
    "SessionPolicy",
    "SessionwardError",
    "StoreError",
    "StoreUnavailable",
    "SystemClock",
    "TrustedProxies",
    "WSGISessionMiddleware",
    "__version__",
]

# Names that left ``__all__`` in 0.2: where each one lives now. Reached through the module
# ``__getattr__`` below, with a DeprecationWarning; removed in the release after.
MOVED: dict[str, str] = {
    "AnomalyRules": "sessionward.monitoring",
    "AuditEntry": "sessionward.monitoring",
    "AuditLog": "sessionward.monitoring",
    "AuditSink": "sessionward.monitoring",
    "Device": "sessionward.monitoring",
    "Event": "sessionward.monitoring",
    "EventKind": "sessionward.monitoring",
    "EventSink": "sessionward.monitoring",
    "GuessingRule": "sessionward.monitoring",
    "LoggingSink": "sessionward.monitoring",
    "MemoryAuditLog": "sessionward.monitoring",
    "MemorySink": "sessionward.monitoring",
    "Monitoring": "sessionward.monitoring",
    "NewDeviceNotifier": "sessionward.monitoring",
    "RevokeReason": "sessionward.monitoring",
    "SQLiteAuditLog": "sessionward.monitoring",
    "UAParserLabeler": "sessionward.monitoring",
    "AsyncStore": "sessionward.stores",
    "RecordUpdate": "sessionward.stores",
    "SessionLimit": "sessionward.stores",
    "SessionRecord": "sessionward.stores",
    "Store": "sessionward.stores",
    "ThreadedAsyncStore": "sessionward.stores",
}

if not TYPE_CHECKING:  # type checkers see only the current names, so old ones get flagged
    __getattr__ = _moved_names(__name__, {name: (home, name) for name, home in MOVED.items()})
