"""What the session flows report: audit events, device labels, the guessing guard's counts.

:class:`Observer` is a collaborator handed to :class:`~sessionward.flows.SessionFlows`: it
sends audit events to the sinks (a failing sink is logged, never raised), labels devices,
counts forged session IDs per client (the guessing guard, whose rules are in
:mod:`sessionward.core.guessing`) and reports the anomaly rules that fired. It never changes
the session store: what to do about a finding (revoke, flag) is the flows' decision.

The guard's counters may live outside the process (next to a Redis or PostgreSQL store), so
its calls are yielded like store calls: ``StoreCall("counters.<method>", ...)``, which the managers
send to their :class:`~sessionward.core.guessing.Counters` backend.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, TypeVar

from .calls import Flow, StoreCall
from .core import anomaly, guessing
from .core.client import ClientInfo
from .core.clock import Clock
from .core.cookies import CookieConfig, find_cookie
from .core.devices import Device
from .core.events import AnyEventSink, Event, EventKind
from .core.monitoring import Monitoring
from .core.records import SessionRecord
from .sink_dispatch import SinkDispatcher

logger = logging.getLogger("sessionward")
T = TypeVar("T")
#: The :attr:`~sessionward.calls.StoreCall.target` of calls for the counters backend.
COUNTERS = "counters"


class Observer:
    """Audit events, device labels, the guessing guard's counts and anomaly reports."""

    def __init__(
        self,
        *,
        clock: Clock,
        cookie: CookieConfig,
        sinks: Sequence[AnyEventSink],
        monitoring: Monitoring | None,
    ) -> None:
        self.clock = clock
        self.cookie = cookie
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
            device=self.device_label(record, client),
        )
        # A failing sink is logged, never raised; a slow one never blocks an event loop.
        self.dispatcher.dispatch(self.sinks, event)

    # -- monitoring (devices, anomaly rules, guessing) ----------------------------------

    def device(self, user_agent: str | None) -> Device | None:
        return None if self.labeler is None else self.labeler(user_agent)

    def device_label(self, record: SessionRecord | None, client: ClientInfo | None) -> str | None:
        if client is not None:
            device = self.device(client.user_agent)
            return None if device is None else device.label
        label = None if record is None else record.meta.get(anomaly.META_DEVICE)
        return label if isinstance(label, str) else None

    def client_meta(self, client: ClientInfo) -> dict[str, Any]:
        device = self.device(client.user_agent)
        if device is None:
            return {}
        return {anomaly.META_DEVICE: device.label, anomaly.META_DEVICE_KEY: device.key}

    def counting(self, flow: guessing.CounterFlow[T]) -> Flow[T]:
        """Run a counter flow inside a session flow: its calls go to the counters backend."""
        try:
            call = next(flow)
            while True:
                result = yield StoreCall(call.method, call.args, target=COUNTERS)
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
        if rule is None or not find_cookie(cookie_header, self.cookie.wire_name).present:
            return None
        wait: float | None = yield from self.counting(
            guessing.blocked_for(rule, client.ip, self.clock.now())
        )
        return wait

    def forged(self, client: ClientInfo, presented: str) -> Flow[float | None]:
        """Count a forged, malformed or ambiguous session ID; seconds the client is blocked.

        Counted per client address and distinct value; crossing the threshold emits one event
        and starts a block. ``None`` while the client is not blocked.
        """
        rule = self.guessing
        if rule is None:
            return None
        started, wait = yield from self.counting(
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
        result: float | None = wait
        return result

    def findings(
        self, record: SessionRecord, client: ClientInfo, findings: list[anomaly.Finding]
    ) -> None:
        """Report the anomaly rules that fired on a loaded session."""
        for finding in findings:
            self.emit(
                EventKind.ANOMALY,
                client=client,
                record=record,
                reason=finding.rule,
                action=finding.action,
                previous=finding.before,
            )
