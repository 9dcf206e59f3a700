"""Open a session store or an audit log from a URL (the CLI's ``--store`` and ``--audit``).

* a SQLite file: a plain path, or ``sqlite:///path`` (three slashes and an absolute path, or
  ``sqlite://relative/path``); the file must exist, so a typo never creates an empty store;
* Redis: ``redis://``, ``rediss://`` or ``unix://`` (extra ``redis``), keys under ``prefix``;
* PostgreSQL: ``postgresql://`` or ``postgres://`` (extra ``postgres``), tables in ``schema``.

Errors: :class:`~sessionward.errors.ConfigurationError` for a bad URL or a missing file,
:class:`~sessionward.errors.StoreUnavailable` when the server cannot be reached (for Redis, on
first use), ``ImportError`` naming the extra when a driver is not installed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from .audit.base import AuditLog
from .errors import ConfigurationError
from .stores.base import Store

Backend = Literal["sqlite", "redis", "postgres"]
_SCHEMES: dict[str, Backend] = {
    "": "sqlite",
    "sqlite": "sqlite",
    "redis": "redis",
    "rediss": "redis",
    "unix": "redis",
    "postgresql": "postgres",
    "postgres": "postgres",
}


def backend_of(url: str) -> Backend:
    """Which kind of server ``url`` names."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    try:
        return _SCHEMES[scheme]
    except KeyError:
        raise ConfigurationError(
            f"unsupported URL scheme {scheme!r}: use a SQLite path, sqlite:///path, "
            "redis://host:port/db or postgresql://user@host/db"
        ) from None


def sqlite_path(url: str) -> Path:
    path = Path(url.removeprefix("sqlite://")) if url.startswith("sqlite://") else Path(url)
    if str(path) in ("", ".", "/"):
        raise ConfigurationError(f"no SQLite file in {url!r}; use sqlite:///path/to/file")
    if not path.is_file():
        raise ConfigurationError(f"no SQLite database at {path} (check the path)")
    return path


def open_store(url: str, *, prefix: str = "sessionward", schema: str = "sessionward") -> Store:
    """A synchronous :class:`~sessionward.stores.base.Store` for ``url``."""
    backend = backend_of(url)
    if backend == "sqlite":
        from .stores.sqlite import SQLiteStore

        return SQLiteStore(sqlite_path(url))
    if backend == "redis":
        from .stores.redis import RedisStore

        return RedisStore(url=url, prefix=prefix)
    from .stores.postgres import PostgresStore

    return PostgresStore(url, schema=schema)


def open_audit_log(
    url: str, *, prefix: str = "sessionward", schema: str = "sessionward"
) -> AuditLog:
    """The :class:`~sessionward.audit.base.AuditLog` kept at ``url``."""
    backend = backend_of(url)
    if backend == "sqlite":
        from .audit.sqlite import SQLiteAuditLog

        return SQLiteAuditLog(sqlite_path(url))
    if backend == "redis":
        from .audit.redis import RedisAuditLog

        return RedisAuditLog(url=url, prefix=prefix)
    from .audit.postgres import PostgresAuditLog

    return PostgresAuditLog(url, schema=schema)
