"""Prometheus metrics fed by session events (extra ``metrics``: prometheus-client).

:class:`PrometheusSink` is an event sink: add it to a manager's ``sinks`` and every life-cycle
event becomes a counter increment. Labels are low-cardinality by construction: each label takes
values from a fixed list (unknown values become ``other``); user ids, handles, addresses and
User-Agents never become labels. The active-sessions gauge asks a callback at scrape time;
:func:`active_sessions` builds one over any store, cached so scrapes stay cheap.

Expose the registry on a separate path (or port) that only your monitoring can reach; the demo
serves it at ``/metrics``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

try:
    import prometheus_client
    from prometheus_client.core import CounterMetricFamily, Metric
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "sessionward's metrics need prometheus-client: pip install 'sessionward[metrics]'"
    ) from exc

from .core.clock import SYSTEM_CLOCK, Clock
from .core.events import Event, EventKind, RevokeReason
from .core.renewal import is_stub
from .stores.base import Store

logger = logging.getLogger("sessionward")

_EXPIRY = {EventKind.EXPIRED_IDLE: "idle", EventKind.EXPIRED_ABSOLUTE: "absolute"}
_ROTATION = {
    EventKind.ROTATED: "rotated",
    EventKind.RENEWED: "renewed",
    EventKind.REAUTHENTICATED: "reauthenticated",
}
_INVALID = {EventKind.UNKNOWN_ID: "unknown", EventKind.MALFORMED_ID: "malformed"}
_REASONS = frozenset(r.value for r in RevokeReason)
_RULES = frozenset({"user_agent_change", "ip_change", "guessing"})
_BINDING = {
    EventKind.BINDING_REGISTERED: "registered",
    EventKind.BINDING_REFRESHED: "refreshed",
    EventKind.BINDING_FAILED: "failed",
    EventKind.BINDING_MISMATCH: "mismatch",
}


def _bounded(value: str | None, allowed: frozenset[str]) -> str:
    return value if value in allowed else "other"


class PrometheusSink:
    """Counts session events in a Prometheus registry (the default one unless given)."""

    #: Counters in memory: called inline, never queued (see :mod:`sessionward.sink_dispatch`).
    inline = True

    def __init__(
        self,
        registry: prometheus_client.CollectorRegistry | None = None,
        *,
        namespace: str = "sessionward",
        active_sessions: Callable[[], float] | None = None,
    ) -> None:
        self.registry = registry if registry is not None else prometheus_client.REGISTRY
        opts: dict[str, Any] = {"namespace": namespace, "registry": self.registry}
        counter = prometheus_client.Counter
        self.sessions_created = counter(
            "sessions_created", "Anonymous sessions created (first write).", **opts
        )
        self.logins = counter("logins", "Successful logins.", **opts)
        self.login_failures = counter("login_failures", "Failed login attempts.", **opts)
        self.logouts = counter("logouts", "Logouts.", **opts)
        self.rotations = counter(
            "rotations",
            "Session tokens replaced (rotated, renewed, reauthenticated).",
            ["kind"],
            **opts,
        )
        self.expirations = counter(
            "expirations", "Sessions found expired, by clock (idle, absolute).", ["kind"], **opts
        )
        self.revocations = counter(
            "revocations", "Sessions revoked, by reason.", ["reason"], **opts
        )
        self.limit_rejections = counter(
            "limit_rejections", "Logins refused by the concurrent-session limit.", **opts
        )
        self.invalid_ids = counter(
            "invalid_session_ids",
            "Unknown or malformed session IDs presented.",
            ["kind"],
            **opts,
        )
        self.csrf_rejections = counter(
            "csrf_rejections", "Requests refused by CSRF checks.", **opts
        )
        self.anomalies = counter(
            "anomalies", "Anomaly rules that fired, by rule.", ["rule"], **opts
        )
        self.binding = counter(
            "device_binding",
            "Device-bound session outcomes (registered, refreshed, failed, mismatch).",
            ["outcome"],
            **opts,
        )
        self.active = None
        if active_sessions is not None:
            self.active = prometheus_client.Gauge(
                "active_sessions", "Live sessions in the store.", **opts
            )
            self.active.set_function(active_sessions)

    def __call__(self, event: Event) -> None:
        kind = event.kind
        if kind is EventKind.LOGIN_SUCCEEDED:
            self.logins.inc()
        elif kind is EventKind.LOGIN_FAILED:
            self.login_failures.inc()
        elif kind is EventKind.SESSION_CREATED:
            self.sessions_created.inc()
        elif kind is EventKind.LOGOUT:
            self.logouts.inc()
        elif kind in _ROTATION:
            # Periodic renewal is reported as a rotation with reason "renewal".
            label = "renewed" if event.reason == "renewal" else _ROTATION[kind]
            self.rotations.labels(kind=label).inc()
        elif kind in _EXPIRY:
            self.expirations.labels(kind=_EXPIRY[kind]).inc()
        elif kind is EventKind.REVOKED:
            count = event.detail.get("count", 1)
            amount = count if isinstance(count, int) and count >= 0 else 1
            self.revocations.labels(reason=_bounded(event.reason, _REASONS)).inc(amount)
        elif kind is EventKind.LIMIT_REJECTED:
            self.limit_rejections.inc()
        elif kind in _INVALID:
            self.invalid_ids.labels(kind=_INVALID[kind]).inc()
        elif kind is EventKind.CSRF_REJECTED:
            self.csrf_rejections.inc()
        elif kind is EventKind.ANOMALY:
            self.anomalies.labels(rule=_bounded(event.reason, _RULES)).inc()
        elif kind in _BINDING:
            self.binding.labels(outcome=_BINDING[kind]).inc()


def active_sessions(
    store: Store, *, clock: Clock = SYSTEM_CLOCK, cache_for: float = 15.0, cap: int = 100_000
) -> Callable[[], float]:
    """A gauge callback counting live sessions in ``store`` (at most ``cap``).

    Listing sessions costs a scan on some stores, so the count is reused for ``cache_for``
    seconds; a store that cannot be reached reports the last count (or 0) rather than failing
    the whole scrape.
    """
    lock = threading.Lock()
    state: dict[str, float] = {"at": float("-inf"), "value": 0.0}

    def count() -> float:
        now = clock.now()
        with lock:
            if now - state["at"] < cache_for:
                return state["value"]
            try:
                records = store.list_all(limit=cap)
            except Exception as exc:  # a scrape must not fail because the store hiccups
                logger.warning("sessionward: active-sessions gauge kept its last value: %s", exc)
                return state["value"]
            live = (r for r in records if r.expires_at > now and not is_stub(r))
            state["value"] = float(sum(1 for _ in live))
            state["at"] = now
            return state["value"]

    return count


class _SweepCollector:
    """Reads the sweepers' counters at scrape time (they live on the stores, not here)."""

    def __init__(self, namespace: str, sweepers: list[Any]) -> None:
        self.namespace = namespace
        self.sweepers = sweepers

    def collect(self) -> Iterator[Metric]:
        families = {
            "purged_rows": ("Expired rows deleted by the automatic purge.", "purged"),
            "purge_rounds": ("Automatic purge rounds run.", "rounds"),
            "purge_skipped": ("Purge rounds left to another instance (lease).", "skipped"),
            "purge_errors": ("Automatic purge rounds that failed.", "errors"),
        }
        for name, (doc, field) in families.items():
            family = CounterMetricFamily(f"{self.namespace}_{name}", doc, labels=["table"])
            for sweeper in self.sweepers:
                family.add_metric([sweeper.name], getattr(sweeper.stats, field))
            yield family


def sweep_collector(
    *stores: Any,
    registry: prometheus_client.CollectorRegistry | None = None,
    namespace: str = "sessionward",
) -> _SweepCollector:
    """Expose the automatic purge of these SQL stores (session or token stores, sync or async).

    Counters ``<namespace>_purged_rows_total``, ``_purge_rounds_total``,
    ``_purge_skipped_total`` and ``_purge_errors_total``, labelled by table (``sessions``,
    ``refresh_tokens``). Stores without a sweeper (memory, Redis) are ignored.
    """
    sweepers = []
    for store in stores:
        sweeper = getattr(store, "sweeper", None) or getattr(
            getattr(store, "sync", None), "sweeper", None
        )
        if sweeper is not None:
            sweepers.append(sweeper)
    collector = _SweepCollector(namespace, sweepers)
    (registry if registry is not None else prometheus_client.REGISTRY).register(collector)
    return collector


def render(registry: prometheus_client.CollectorRegistry | None = None) -> tuple[bytes, str]:
    """The text exposition of ``registry`` and its content type, for a ``/metrics`` route."""
    chosen = registry if registry is not None else prometheus_client.REGISTRY
    return prometheus_client.generate_latest(chosen), prometheus_client.CONTENT_TYPE_LATEST
