"""Connection settings shared by every PostgreSQL backend (sessions, refresh tokens, audit).

One place decides what the time-outs mean, so the session store, the token store and the audit
log bound their waits the same way: past ``connect_timeout``, ``pool_timeout`` or
``statement_timeout`` a call fails (as ``StoreUnavailable``) instead of hanging a request.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import ConfigurationError

SCHEMA_SHAPE = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def check_schema(schema: object) -> str:
    """A schema name safe to use as an SQL identifier, or a ``ConfigurationError``."""
    if not isinstance(schema, str) or not SCHEMA_SHAPE.fullmatch(schema):
        raise ConfigurationError("schema must be a lower-case SQL identifier (a-z, 0-9, _)")
    return schema


def connection_kwargs(
    schema: str,
    *,
    connect_timeout: float,
    statement_timeout: float,
    pool_timeout: float,
    max_size: int,
) -> dict[str, Any]:
    """Validate the settings and return the keyword arguments for each pooled connection."""
    check_schema(schema)
    if min(connect_timeout, statement_timeout, pool_timeout) <= 0:
        raise ConfigurationError("PostgreSQL time-outs must be positive numbers of seconds")
    if max_size < 1:
        raise ConfigurationError("max_size must be at least 1")
    return {
        "autocommit": True,
        # libpq rounds connect_timeout to whole seconds (and treats 1 as 2).
        "connect_timeout": max(2, round(connect_timeout)),
        "options": f"-c statement_timeout={int(statement_timeout * 1000)}",
    }
