"""The audit log in Redis streams, next to :class:`~sessionward.stores.redis.RedisStore`.

Each event is added (in one ``MULTI``) to three capped streams: every event, the user's events
and the session's events, so both questions operators ask ("alice's logins", "what happened to
session H") read one short stream. Per-user and per-session streams expire ``ttl`` seconds after
their last event; all streams are trimmed to a maximum length (approximately, as Redis does
cheaply). Keys share the ``{prefix}`` hash tag of the session store, so they live on one
Redis Cluster slot and the ``MULTI`` is legal there; the session store never touches them
(``{prefix}:a:...`` is not a session key).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any

try:
    import redis
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "sessionward's Redis audit log needs redis-py: pip install 'sessionward[redis]'"
    ) from exc

from ..core.events import Event, EventKind
from ..errors import ConfigurationError, StoreUnavailable
from .base import AuditEntry, check_limit, matches

_PREFIX_SHAPE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_BATCH = 200
#: Never scan more than this many entries for one query, however selective the filter.
_SCAN_CAP = 20_000


@contextmanager
def _translate() -> Iterator[None]:
    try:
        yield
    except redis.RedisError as exc:
        raise StoreUnavailable(f"Redis audit log unavailable: {exc}") from exc


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisAuditLog:
    """Audit events in Redis streams. Pass ``client`` or ``url``; ``prefix`` as for the store."""

    def __init__(
        self,
        client: redis.Redis | None = None,
        *,
        url: str | None = None,
        prefix: str = "sessionward",
        max_events: int = 1_000_000,
        max_per_key: int = 10_000,
        ttl: int = 90 * 24 * 3600,
        socket_timeout: float = 1.0,
        connect_timeout: float = 1.0,
    ) -> None:
        if (client is None) == (url is None):
            raise ConfigurationError("RedisAuditLog needs exactly one of client= or url=")
        if not isinstance(prefix, str) or not _PREFIX_SHAPE.fullmatch(prefix):
            raise ConfigurationError(
                "prefix must be 1-64 characters of letters, digits and _ . : -"
            )
        if min(max_events, max_per_key, ttl) < 1:
            raise ConfigurationError("max_events, max_per_key and ttl must be positive")
        self.prefix = prefix
        self._tag = "{" + prefix + "}:a:"
        self.max_events = max_events
        self.max_per_key = max_per_key
        self.ttl = ttl
        self._owns_client = client is None
        self.client: redis.Redis = client or redis.Redis.from_url(
            url or "", socket_timeout=socket_timeout, socket_connect_timeout=connect_timeout
        )

    def __repr__(self) -> str:
        return f"RedisAuditLog(prefix={self.prefix!r})"

    @property
    def all_key(self) -> str:
        return self._tag + "all"

    def user_key(self, user_id: str) -> str:
        return f"{self._tag}u:{user_id}"

    def handle_key(self, handle: str) -> str:
        return f"{self._tag}h:{handle}"

    def append(self, event: Event) -> None:
        fields: dict[Any, Any] = {
            "e": json.dumps(event.as_dict(), separators=(",", ":"), default=str)
        }
        with _translate():
            pipe = self.client.pipeline(transaction=True)
            pipe.xadd(self.all_key, fields, maxlen=self.max_events, approximate=True)
            for key in (
                self.user_key(event.user_id) if event.user_id else None,
                self.handle_key(event.handle) if event.handle else None,
            ):
                if key is not None:
                    pipe.xadd(key, fields, maxlen=self.max_per_key, approximate=True)
                    pipe.expire(key, self.ttl)
            pipe.execute()

    @staticmethod
    def _entry(raw: tuple[Any, Any]) -> AuditEntry:
        entry_id, fields = raw
        body = fields.get(b"e", fields.get("e"))
        return AuditEntry(_text(entry_id), Event.from_dict(json.loads(_text(body))))

    def query(
        self,
        *,
        user_id: str | None = None,
        handle: str | None = None,
        kinds: Collection[EventKind] | None = None,
        since: float | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        check_limit(limit)
        if handle is not None:
            key = self.handle_key(handle)
        elif user_id is not None:
            key = self.user_key(user_id)
        else:
            key = self.all_key
        found: list[AuditEntry] = []
        upper = "+"
        scanned = 0
        with _translate():
            while len(found) < limit and scanned < _SCAN_CAP:
                batch = self.client.xrevrange(key, max=upper, min="-", count=_BATCH)
                if not batch:
                    break
                scanned += len(batch)
                for raw in batch:
                    entry = self._entry(raw)
                    if since is not None and entry.event.at < since:
                        return found  # streams are in append order: nothing older matches
                    if matches(
                        entry.event, user_id=user_id, handle=handle, kinds=kinds, since=None
                    ):
                        found.append(entry)
                        if len(found) == limit:
                            break
                upper = "(" + _text(batch[-1][0])
        return found

    def tail(self, *, after: str | None = None, limit: int = 100) -> list[AuditEntry]:
        check_limit(limit)
        with _translate():
            if after is None:
                raw: list[Any] = list(self.client.xrevrange(self.all_key, count=limit) or [])
                raw.reverse()
            else:
                raw = list(
                    self.client.xrange(self.all_key, min="(" + after, max="+", count=limit) or []
                )
        return [self._entry(r) for r in raw]

    def clear(self) -> int:
        """Delete every audit stream under this prefix (tests, or a deliberate reset)."""
        count = 0
        with _translate():
            for name in self.client.scan_iter(match=self._tag.replace("{", "\\{") + "*"):
                count += int(self.client.delete(name))
        return count

    def close(self) -> None:
        if self._owns_client:
            self.client.close()
