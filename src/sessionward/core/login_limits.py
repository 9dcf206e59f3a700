"""Login-attempt limits: exponential backoff per account and per address, decided without I/O.

Online password guessing is slowed on two axes. Failures for one *account* (from anywhere)
and failures from one *address* (for any account) each earn a delay once their free attempts
are used up: ``base_delay``, then twice that, and so on, capped at ``max_delay``. An attempt
made during a delay is refused without checking the password and without counting, so a
script gains nothing by hammering. Failures are forgotten ``forget_after`` seconds after the
first.

No stranger can lock an account: the delay is capped, and an account that has logged in
successfully from an address (or a device the app names) before is *known* there. A known
pair has a budget of its own, so failures from elsewhere never delay the owner on their usual
network, while a thief on that same network is still slowed by the pair's own counter.

The decisions are counter flows (:mod:`sessionward.core.guessing`), shared across instances
when the counters are; :class:`sessionward.LoginLimiter` drives them and records events.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ..errors import ConfigurationError
from .guessing import CounterCall, CounterFlow, client_key


@dataclass(frozen=True, slots=True)
class LoginLimits:
    """How many failures are free, how the delay grows, and for how long things are remembered.

    ``account_free`` / ``address_free``: failures before the first delay (an address is shared
    by a whole office behind a NAT, so it gets more). ``base_delay`` doubles per further failure
    up to ``max_delay``. ``remember_for``: how long a successful login makes its address (or
    device) known for that account.
    """

    account_free: int = 5
    address_free: int = 20
    base_delay: float = 1.0
    max_delay: float = 900.0
    forget_after: float = 3600.0
    remember_for: float = 90 * 86400.0
    ipv6_prefix: int = 64

    def __post_init__(self) -> None:
        if self.account_free < 0 or self.address_free < 0:
            raise ConfigurationError("LoginLimits.account_free and address_free must be >= 0")
        if not 0 < self.base_delay <= self.max_delay:
            raise ConfigurationError(
                "LoginLimits needs 0 < base_delay <= max_delay (seconds); max_delay caps how "
                "long a stranger's failures can delay an account"
            )
        if self.forget_after <= 0 or self.remember_for <= 0:
            raise ConfigurationError("LoginLimits.forget_after and remember_for must be positive")

    def delay(self, failures: int, free: int) -> float:
        """The delay earned by the ``failures``-th failure (0 while within the free ones)."""
        over = failures - free
        if over <= 0:
            return 0.0
        return min(self.max_delay, self.base_delay * 2.0 ** min(over - 1, 64))


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a check or a failure decided: the wait in force (``None``: go ahead) and why."""

    wait: float | None = None
    scope: str | None = None  # "account", "address" or "known" (the account at a known place)
    failures: int = 0


def account_tag(account: str) -> str:
    """A stable, non-reversible name for an account in counter keys (never the raw name)."""
    folded = account.strip().casefold().encode("utf-8", "surrogatepass")
    return hashlib.sha256(b"sessionward login:" + folded).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class _Keys:
    account: str
    address: str | None
    known: tuple[str, ...]  # the marks that make this (account, place) known
    pair: str  # the known pair's own budget


def _keys(limits: LoginLimits, account: str, ip: str | None, device: str | None) -> _Keys:
    acct = account_tag(account)
    address = client_key(ip, limits.ipv6_prefix)
    known = []
    if address is not None:
        known.append(f"lk:{acct}:i:{address}")
    if device:
        known.append(f"lk:{acct}:d:{hashlib.sha256(device.encode()).hexdigest()[:32]}")
    return _Keys(
        account=acct,
        address=address,
        known=tuple(known),
        pair=f"{acct}:{address or ''}:{device or ''}",
    )


def _wait(until: float | None, now: float) -> float | None:
    return None if until is None or until <= now else until - now


def _marks(k: _Keys, now: float) -> CounterFlow[tuple[bool, dict[str, float | None]]]:
    names = [f"lb:a:{k.account}", f"lb:p:{k.pair}", *k.known]
    if k.address is not None:
        names.append(f"lb:i:{k.address}")
    found: list[float | None] = yield CounterCall("marks", (names, now))
    marks = dict(zip(names, found, strict=True))
    known = any(marks.get(name) is not None for name in k.known)
    return known, marks


def check(
    limits: LoginLimits, account: str, ip: str | None, device: str | None, now: float
) -> CounterFlow[Verdict]:
    """Whether a login attempt may go ahead now; ask *before* checking the password."""
    k = _keys(limits, account, ip, device)
    known, marks = yield from _marks(k, now)
    if known:
        wait = _wait(marks[f"lb:p:{k.pair}"], now)
        return Verdict(wait, "known" if wait is not None else None)
    waits = [
        ("account", _wait(marks[f"lb:a:{k.account}"], now)),
        ("address", _wait(marks.get(f"lb:i:{k.address}"), now)),
    ]
    scope, wait = max(waits, key=lambda item: item[1] or 0.0)
    return Verdict(wait, scope) if wait is not None else Verdict()


def failed(
    limits: LoginLimits, account: str, ip: str | None, device: str | None, now: float
) -> CounterFlow[Verdict]:
    """Count a wrong password; the verdict holds the delay it started, if any."""
    k = _keys(limits, account, ip, device)
    known, _ = yield from _marks(k, now)
    window = limits.forget_after
    if known:
        hits: int = yield CounterCall("hit", (f"lf:p:{k.pair}", None, window, now))
        delay = limits.delay(hits, limits.account_free)
        if delay:
            yield CounterCall("mark", (f"lb:p:{k.pair}", now + delay, now))
        return Verdict(delay or None, "known" if delay else None, hits)
    verdict = Verdict()
    counted = [("account", f"a:{k.account}", limits.account_free)]
    if k.address is not None:
        counted.append(("address", f"i:{k.address}", limits.address_free))
    for scope, name, free in counted:
        hits = yield CounterCall("hit", (f"lf:{name}", None, window, now))
        delay = limits.delay(hits, free)
        if delay:
            yield CounterCall("mark", (f"lb:{name}", now + delay, now))
            if delay > (verdict.wait or 0.0):
                verdict = Verdict(delay, scope, hits)
    return verdict


def succeeded(
    limits: LoginLimits, account: str, ip: str | None, device: str | None, now: float
) -> CounterFlow[None]:
    """A correct password: this address (and device) become known for the account."""
    k = _keys(limits, account, ip, device)
    for name in k.known:
        yield CounterCall("mark", (name, now + limits.remember_for, now))
    yield CounterCall("clear", ([f"lf:p:{k.pair}", f"lb:p:{k.pair}"],))
