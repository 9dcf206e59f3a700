"""Login-attempt limiters for apps: :class:`LoginLimiter` and :class:`AsyncLoginLimiter`.

They drive the decisions of :mod:`sessionward.core.login_limits` against the manager's
counters (shared by every instance on a Redis or PostgreSQL store, per process otherwise) and
record what they do in the manager's audit trail. Use them around every password check::

    wait = limiter.check(username, client)
    if wait is not None:
        ...answer 429 with Retry-After: wait, without checking the password
    elif password is right:
        limiter.succeeded(username, client)
    else:
        limiter.failed(username, client)
"""

from __future__ import annotations

import math

from .core import login_limits
from .core.client import ClientInfo
from .core.events import EventKind, fingerprint
from .core.login_limits import LoginLimits, Verdict
from .manager import AsyncSessionManager, SessionManager, _Base


def retry_after_header(wait: float) -> str:
    """The ``Retry-After`` value for a wait in seconds (whole seconds, at least 1)."""
    return str(max(1, math.ceil(wait)))


class _Limiter:
    def __init__(self, manager: _Base, limits: LoginLimits | None) -> None:
        self.manager = manager
        self.limits = limits or LoginLimits()

    def _account(self, account: str) -> str:
        # Attacker-typed text never enters the trail raw: a keyed fingerprint correlates.
        return fingerprint(
            account.strip().casefold(), self.manager.flows.observer.monitoring.fingerprint_key
        )

    def _refused(self, account: str, client: ClientInfo, verdict: Verdict) -> None:
        if verdict.wait is not None:
            self.manager.emit(
                EventKind.ANOMALY,
                client=client,
                reason="login_limited",
                action="refuse",
                scope=verdict.scope,
                account=self._account(account),
                retry_after=retry_after_header(verdict.wait),
            )

    def _delayed(self, account: str, client: ClientInfo, verdict: Verdict) -> None:
        if verdict.wait is not None:
            self.manager.emit(
                EventKind.ANOMALY,
                client=client,
                reason="login_backoff",
                action="delay",
                scope=verdict.scope,
                failures=verdict.failures,
                account=self._account(account),
                delay=verdict.wait,
            )


class LoginLimiter(_Limiter):
    """Per-account and per-address backoff for a synchronous app (see the module docstring)."""

    manager: SessionManager

    def __init__(self, manager: SessionManager, limits: LoginLimits | None = None) -> None:
        if not isinstance(manager, SessionManager):
            raise TypeError("LoginLimiter needs a SessionManager; use AsyncLoginLimiter for async")
        super().__init__(manager, limits)

    def check(self, account: str, client: ClientInfo, device: str | None = None) -> float | None:
        """Seconds to wait before this attempt may be made, or ``None`` to go ahead."""
        flow = login_limits.check(self.limits, account, client.ip, device, self._now())
        verdict = self.manager._run(self.manager.flows.observer.counting(flow))
        self._refused(account, client, verdict)
        return verdict.wait

    def failed(self, account: str, client: ClientInfo, device: str | None = None) -> float | None:
        """Count a wrong password; returns the delay it started, if any."""
        flow = login_limits.failed(self.limits, account, client.ip, device, self._now())
        verdict = self.manager._run(self.manager.flows.observer.counting(flow))
        self._delayed(account, client, verdict)
        return verdict.wait

    def succeeded(self, account: str, client: ClientInfo, device: str | None = None) -> None:
        """A correct password: the address (and device) become known for the account."""
        flow = login_limits.succeeded(self.limits, account, client.ip, device, self._now())
        self.manager._run(self.manager.flows.observer.counting(flow))

    def _now(self) -> float:
        return self.manager.flows.clock.now()


class AsyncLoginLimiter(_Limiter):
    """The async twin of :class:`LoginLimiter`, over an :class:`AsyncSessionManager`."""

    manager: AsyncSessionManager

    def __init__(self, manager: AsyncSessionManager, limits: LoginLimits | None = None) -> None:
        if not isinstance(manager, AsyncSessionManager):
            raise TypeError("AsyncLoginLimiter needs an AsyncSessionManager")
        super().__init__(manager, limits)

    async def check(
        self, account: str, client: ClientInfo, device: str | None = None
    ) -> float | None:
        """Seconds to wait before this attempt may be made, or ``None`` to go ahead."""
        flow = login_limits.check(self.limits, account, client.ip, device, self._now())
        verdict = await self.manager._run(self.manager.flows.observer.counting(flow))
        self._refused(account, client, verdict)
        return verdict.wait

    async def failed(
        self, account: str, client: ClientInfo, device: str | None = None
    ) -> float | None:
        """Count a wrong password; returns the delay it started, if any."""
        flow = login_limits.failed(self.limits, account, client.ip, device, self._now())
        verdict = await self.manager._run(self.manager.flows.observer.counting(flow))
        self._delayed(account, client, verdict)
        return verdict.wait

    async def succeeded(self, account: str, client: ClientInfo, device: str | None = None) -> None:
        """A correct password: the address (and device) become known for the account."""
        flow = login_limits.succeeded(self.limits, account, client.ip, device, self._now())
        await self.manager._run(self.manager.flows.observer.counting(flow))

    def _now(self) -> float:
        return self.manager.flows.clock.now()
