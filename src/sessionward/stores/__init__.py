"""Session stores and the protocols a store implements.

An application usually needs only a store's constructor (the common ones are also exported by
:mod:`sessionward`). Someone writing a store reads :class:`Store` / :class:`AsyncStore`, whose
docstrings state the invariants, and the values they pass: :class:`RecordUpdate`,
:class:`SessionLimit`, :class:`SessionRecord`.

The Redis and PostgreSQL stores live in :mod:`sessionward.stores.redis` and
:mod:`sessionward.stores.postgres` so that their drivers stay optional extras.

Internal modules shared across packages have plain names so that ``tokens/``, ``audit/`` and
``guard/`` may import them: ``sqlite_db`` (SQLite plumbing), ``pg_runner`` (the PostgreSQL
executor), ``pg_settings`` (pool and timeout bounds), ``pg_plans`` (the session store's SQL as
plans) and ``sweeper`` (the automatic purge). They are not public API and may change in any
release. Modules whose names start with an underscore (``_redis_lua``, ``_resp``) are private to
this package: nothing outside ``stores/`` imports them (a test checks).
"""

from __future__ import annotations

from ..core.records import SessionRecord
from .base import AsyncStore, RecordUpdate, SessionLimit, Store
from .memory import MemoryStore
from .sqlite import AsyncSQLiteStore, SQLiteStore
from .threaded import AsyncMemoryStore, ThreadedAsyncStore

__all__ = [
    "AsyncMemoryStore",
    "AsyncSQLiteStore",
    "AsyncStore",
    "MemoryStore",
    "RecordUpdate",
    "SQLiteStore",
    "SessionLimit",
    "SessionRecord",
    "Store",
    "ThreadedAsyncStore",
]
