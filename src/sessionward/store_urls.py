"""Open a session store or an audit log from a URL (the CLI's ``--store`` and ``--audit``).

* a SQLite file: a plain path, or ``sqlite:///path`` (three slashes and an absolute path, or
  ``sqlite://relative/path``); the file must exist, so a typo never creates an empty store;
* Redis: ``redis://``, ``rediss://`` or ``unix://`` (extra ``redis``), keys under ``prefix``;
* PostgreSQL: ``postgresql://`` or ``postgres://`` (extra ``postgres``), tables in ``schema``;
* ``memory://``: a new in-process store (tests and single-process development only).

``open_store(url, create=True)`` (the Django engine) creates a missing SQLite file; the CLI keeps
the default, so a typo there never creates an empty store.

Errors: :class:`~sessionward.errors.ConfigurationError` for a bad URL or a missing file,
:class:`~sessionward.errors.StoreUnavailable` when the server cannot be reached (for Redis, on
first use), ``ImportError`` naming the extra when a driver is not installed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from .audit.base import AuditLog
from .errors import ConfigurationError
from .stores.base import AsyncStore, Store

Backend = Literal["sqlite", "redis", "postgres", "memory"]
_SCHEMES: dict[str, Backend] = {
    "": "sqlite",
    "sqlite": "sqlite",
    "redis": "redis",
    "rediss": "redis",
    "unix": "redis",
    "postgresql": "postgres",
    "postgres": "postgres",
    "memory": "memory",
}


def backend_of(url: str) -> Backend:
    """Which kind of server ``url`` names."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    try:
        return _SCHEMES[scheme]
    except KeyError:
        raise ConfigurationError(
            f"unsupported URL scheme {scheme!r}: use a SQLite path, sqlite:///path, "
            "redis://host:port/db, postgresql://user@host/db or memory://"
        ) from None


def sqlite_path(url: str, *, create: bool = False) -> Path:
    path = Path(url.removeprefix("sqlite://")) if url.startswith("sqlite://") else Path(url)
    if str(path) in ("", ".", "/"):
        raise ConfigurationError(f"no SQLite file in {url!r}; use sqlite:///path/to/file")
    if create and not path.parent.is_dir():
        raise ConfigurationError(f"no directory {path.parent} for the SQLite database {path}")
    if not create and not path.is_file():
        raise ConfigurationError(f"no SQLite database at {path} (check the path)")
    return path


def open_store(
    url: str, *, prefix: str = "sessionward", schema: str = "sessionward", create: bool = False
) -> Store:
    """A synchronous :class:`~sessionward.stores.base.Store` for ``url``.

    ``create=True`` lets a missing SQLite file be created (its directory must exist).
    """
    backend = backend_of(url)
    if backend == "memory":
        from .stores.memory import MemoryStore

        return MemoryStore()
    if backend == "sqlite":
        from .stores.sqlite import SQLiteStore

        return SQLiteStore(sqlite_path(url, create=create))
    if backend == "redis":
        from .stores.redis import RedisStore

        return RedisStore(url=url, prefix=prefix)
    from .stores.postgres import PostgresStore

    return PostgresStore(url, schema=schema)


def open_async_store(
    url: str,
    *,
    prefix: str = "sessionward",
    schema: str = "sessionward",
    create: bool = False,
    sync: Store | None = None,
) -> AsyncStore:
    """The :class:`~sessionward.stores.base.AsyncStore` for ``url``: the async twin of
    :func:`open_store` over the same data.

    For ``memory://`` pass ``sync``, the :class:`~sessionward.stores.memory.MemoryStore` the
    sync side uses, so both see the same sessions (a new one is made otherwise).
    """
    backend = backend_of(url)
    if backend == "memory":
        from .stores.memory import MemoryStore
        from .stores.threaded import AsyncMemoryStore

        return AsyncMemoryStore(sync if isinstance(sync, MemoryStore) else None)
    if backend == "sqlite":
        from .stores.sqlite import AsyncSQLiteStore

        return AsyncSQLiteStore(sqlite_path(url, create=create))
    if backend == "redis":
        from .stores.redis import AsyncRedisStore

        return AsyncRedisStore(url=url, prefix=prefix)
    from .stores.postgres import AsyncPostgresStore

    return AsyncPostgresStore(url, schema=schema)


def open_audit_log(
    url: str, *, prefix: str = "sessionward", schema: str = "sessionward"
) -> AuditLog:
    """The :class:`~sessionward.audit.base.AuditLog` kept at ``url``."""
    backend = backend_of(url)
    if backend == "memory":
        from .audit import MemoryAuditLog

        return MemoryAuditLog()
    if backend == "sqlite":
        from .audit.sqlite import SQLiteAuditLog

        return SQLiteAuditLog(sqlite_path(url))
    if backend == "redis":
        from .audit.redis import RedisAuditLog

        return RedisAuditLog(url=url, prefix=prefix)
    from .audit.postgres import PostgresAuditLog

    return PostgresAuditLog(url, schema=schema)
