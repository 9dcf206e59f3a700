"""Events and monitoring for the session flows.

:class:`Monitor` is the part of :class:`~sessionward.flows.Flows` that watches rather than
decides: it sends audit events to the sinks through a
:class:`~sessionward.sink_dispatch.SinkDispatcher` (a failing sink is logged, never raised; a
slow one never blocks an event loop), labels
devices, counts forged session IDs per client (the guessing guard, whose decisions are in
:mod:`sessionward.core.guessing`) and applies the anomaly rules to a loaded session.

The guard's counters may live outside the process (next to a Redis or PostgreSQL store), so
its calls are yielded like store calls: ``Op("counters.<method>", ...)``, which the managers
send to their :class:`~sessionward.core.guessing.Counters` backend.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, TypeVar

from .core import anomaly, guessing
from .core.client import ClientInfo
from .core.clock import Clock
from .core.cookies import CookieConfig, expire_cookie, find_cookie
from .core.devices import Device
from .core.events import AnyEventSink, Event, EventKind, RevokeReason
from .core.monitoring import Monitoring
from .core.records import SessionRecord
from .errors import GuessingBlocked
from .ops import Flow, Op
from .sink_dispatch import SinkDispatcher
from .stores.base import RecordUpdate

logger = logging.getLogger("sessionward")
T = TypeVar("T")
#: Prefix of the ops that go to the counters backend instead of the store.
COUNTERS = "counters."


class Monitor:
    """Audit events, device labels, the guessing guard and the anomaly rules."""

    clock: Clock
    cookie: CookieConfig

    def __init__(
        self, *, clock: Clock, sinks: Sequence[AnyEventSink], monitoring: Monitoring | None
    ) -> None:
        self.clock = clock
        self.sinks = tuple(sinks)
        #: Delivers events without blocking an event loop (see :mod:`sessionward.sink_dispatch`).
        self.dispatcher = SinkDispatcher()
        self.monitoring = monitoring or Monitoring()
        self.labeler = self.monitoring.labeler()
        self.guessing = self.monitoring.rules.guessing

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
        self.dispatcher.dispatch(self.sinks, event)

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

    def _counting(self, flow: guessing.CounterFlow[T]) -> Flow[T]:
        """Run a counter flow inside a session flow: its calls become ``counters.`` ops."""
        try:
            call = next(flow)
            while True:
                result = yield Op(COUNTERS + call.method, call.args)
                call = flow.send(result)
        except StopIteration as done:
            value: T = done.value
            return value

    def retry_after(
        self, client: ClientInfo, cookie_header: str | bytes | None
    ) -> Flow[float | None]:
        """Seconds a client blocked for guessing must wait, or ``None``.

        Only requests that present a session cookie can be refused (and a live session never
        is): one without cannot be guessing, and letting it through keeps the login page
        reachable.
        """
        rule = self.guessing
        if rule is None or not find_cookie(cookie_header, self.cookie.cookie_name).present:
            return None
        wait: float | None = yield from self._counting(
            guessing.blocked_for(rule, client.ip, self.clock.now())
        )
        return wait

    def _forged(self, client: ClientInfo, presented: str) -> Flow[None]:
        """A forged, malformed or ambiguous session ID: count it, refuse a blocked client.

        Counted per client address and distinct value; crossing the threshold emits one event
        and starts a block. While blocked, such requests raise :class:`GuessingBlocked` (a
        429 from the shells) carrying a header that clears the dead cookie, so a genuine user
        sharing the address gets one 429 and then reaches the login page without a cookie.
        """
        rule = self.guessing
        if rule is None:
            return
        started, wait = yield from self._counting(
            guessing.strike(rule, client.ip, presented, self.clock.now())
        )
        if started:
            self.emit(
                EventKind.ANOMALY,
                client=client,
                reason="guessing",
                action="throttle",
                failures=rule.max_failures,
                window=rule.window,
                block_for=rule.block_for,
            )
        if wait is not None:
            raise GuessingBlocked(wait, (("set-cookie", expire_cookie(self.cookie)),))

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
