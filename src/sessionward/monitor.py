"""Events and monitoring for the session flows.

:class:`Monitor` is the part of :class:`~sessionward.flows.Flows` that watches rather than
decides: it sends audit events to the sinks (a failing sink is logged, never raised), labels
devices, counts failed session IDs per client (the guessing guard) and applies the anomaly
rules to a loaded session.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from .core import anomaly
from .core.client import ClientInfo
from .core.clock import Clock
from .core.cookies import CookieConfig, find_cookie
from .core.devices import Device
from .core.events import Event, EventKind, EventSink, RevokeReason
from .core.monitoring import Monitoring
from .core.records import SessionRecord
from .ops import Flow, Op
from .stores.base import RecordUpdate

logger = logging.getLogger("sessionward")


class Monitor:
    """Audit events, device labels, the guessing guard and the anomaly rules."""

    clock: Clock
    cookie: CookieConfig

    def __init__(
        self, *, clock: Clock, sinks: Sequence[EventSink], monitoring: Monitoring | None
    ) -> None:
        self.clock = clock
        self.sinks = tuple(sinks)
        self.monitoring = monitoring or Monitoring()
        self.labeler = self.monitoring.labeler()
        guessing = self.monitoring.rules.guessing
        self.guard = None if guessing is None else anomaly.GuessingGuard(guessing, clock)

    # -- events -------------------------------------------------------------------------

    def emit(
        self,
        kind: EventKind,
        *,
        client: ClientInfo | None = None,
        record: SessionRecord | None = None,
        reason: str | None = None,
        user_id: str | None = None,
        **detail: Any,
    ) -> None:
        event = Event(
            kind=kind,
            at=self.clock.now(),
            user_id=user_id if record is None else record.user_id,
            handle=None if record is None else record.handle,
            ip=None if client is None else client.ip,
            user_agent=None if client is None else client.user_agent,
            reason=reason,
            detail=detail,
            device=self._device_label(record, client),
        )
        for sink in self.sinks:
            try:
                sink(event)
            except Exception:
                # An audit sink must never turn a request into a 500.
                logger.exception("sessionward: event sink %r failed for %s", sink, kind)

    # -- monitoring (devices, anomaly rules, guessing) ----------------------------------

    def device(self, user_agent: str | None) -> Device | None:
        return None if self.labeler is None else self.labeler(user_agent)

    def _device_label(self, record: SessionRecord | None, client: ClientInfo | None) -> str | None:
        if client is not None:
            device = self.device(client.user_agent)
            return None if device is None else device.label
        label = None if record is None else record.meta.get(anomaly.META_DEVICE)
        return label if isinstance(label, str) else None

    def _client_meta(self, client: ClientInfo) -> dict[str, Any]:
        device = self.device(client.user_agent)
        if device is None:
            return {}
        return {anomaly.META_DEVICE: device.label, anomaly.META_DEVICE_KEY: device.key}

    def retry_after(self, client: ClientInfo, cookie_header: str | bytes | None) -> float | None:
        """Seconds a client blocked for guessing must wait before this request, or ``None``.

        Only requests that present a session cookie are refused: one without cannot be
        guessing, and letting it through keeps the login page reachable.
        """
        if self.guard is None:
            return None
        wait = self.guard.retry_after(client.ip)
        if wait is None or not find_cookie(cookie_header, self.cookie.cookie_name).present:
            return None
        return wait

    def _failed_id(self, client: ClientInfo, presented: str) -> None:
        # Counted per client address and distinct value; crossing the threshold emits one
        # event and starts a block that the middlewares answer with 429 before any lookup.
        if self.guard is not None and self.guard.failure(client.ip, presented):
            rule = self.guard.rule
            self.emit(
                EventKind.ANOMALY,
                client=client,
                reason="guessing",
                action="throttle",
                failures=rule.max_failures,
                window=rule.window,
                block_for=rule.block_for,
            )

    def _react(
        self, record: SessionRecord, client: ClientInfo, findings: list[anomaly.Finding]
    ) -> Flow[SessionRecord | None]:
        """Apply the anomaly rules that fired: revoke, or remember and flag the session."""
        for finding in findings:
            self.emit(
                EventKind.ANOMALY,
                client=client,
                record=record,
                reason=finding.rule,
                action=finding.action,
                previous=finding.before,
            )
        if anomaly.strongest(findings) == "revoke":
            gone: SessionRecord | None = yield Op("delete", (record.key,))
            if gone is not None:
                self.emit(
                    EventKind.REVOKED,
                    client=client,
                    record=gone,
                    reason=RevokeReason.ANOMALY,
                    rule=",".join(f.rule for f in findings if f.action == "revoke"),
                )
            return None
        change = RecordUpdate(set_meta=anomaly.meta_after(record, findings))
        stored: SessionRecord | None = yield Op("update", (record.key, change))
        return stored
