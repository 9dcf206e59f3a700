"""An in-process audit log for tests and single-process development (bounded, lost on exit)."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Collection

from ..core.events import Event, EventKind
from ..errors import ConfigurationError
from .base import AuditEntry, check_limit, matches


class MemoryAuditLog:
    """Keeps the last ``max_events`` events, as JSON like the persistent logs do."""

    def __init__(self, max_events: int = 100_000) -> None:
        if max_events < 1:
            raise ConfigurationError("max_events must be at least 1")
        self._rows: deque[tuple[int, str]] = deque(maxlen=max_events)
        self._next = 1
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MemoryAuditLog({len(self._rows)} events)"

    def append(self, event: Event) -> None:
        text = json.dumps(event.as_dict(), separators=(",", ":"), default=str)
        with self._lock:
            self._rows.append((self._next, text))
            self._next += 1

    def _entries(self) -> list[AuditEntry]:
        with self._lock:
            rows = list(self._rows)
        return [AuditEntry(str(n), Event.from_dict(json.loads(text))) for n, text in rows]

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
        found = [
            entry
            for entry in reversed(self._entries())
            if matches(entry.event, user_id=user_id, handle=handle, kinds=kinds, since=since)
        ]
        return found[:limit]

    def tail(self, *, after: str | None = None, limit: int = 100) -> list[AuditEntry]:
        check_limit(limit)
        entries = self._entries()
        if after is None:
            return entries[-limit:]
        cursor = int(after)
        return [e for e in entries if int(e.id) > cursor][:limit]

    def close(self) -> None:
        pass
