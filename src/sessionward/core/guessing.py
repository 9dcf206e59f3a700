"""The guessing guard: block a client address that presents many forged session IDs.

A client presenting many unknown or malformed session IDs in a short window is probing for
valid ones. The guard counts *distinct* failed values per client address (IPv6 per /64, since
one host owns a whole prefix) and blocks the address for a while.

Two rules keep the block from hurting anyone but the guesser:

* a blocked address still has its cookie looked up, and a live session goes through: one
  guesser behind a NAT or a corporate proxy must not lock out everyone sharing its address;
* only *forgeries* count. A token sessionward issued carries a keyed tag
  (:mod:`sessionward.core.session_tokens`), so a genuine token whose session has ended (logged out,
  idle-expired on Redis, lost in a Redis restart) is recognised as genuine and never counted;
  bulk loss of sessions therefore does not turn returning users into "guessers".

The counters live in a :class:`Counters` backend: :class:`MemoryCounters` (per process, bounded)
or a shared one next to a Redis or PostgreSQL store (:mod:`sessionward.guard`), so several app
instances see the same counts and blocks. The decisions are written once, as generators of
:class:`CounterCall` values, and driven by the session managers (or :meth:`GuessingGuard.failure`
for the local case), exactly like the session flows.
"""

from __future__ import annotations

import ipaddress
import threading
import uuid
from collections import OrderedDict
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from ..errors import ConfigurationError
from .clock import Clock

T = TypeVar("T")
#: A distinct-value count stops growing here (every backend); no rule may need more.
MAX_MEMBERS = 1000


@dataclass(frozen=True, slots=True)
class GuessingRule:
    """Block a client after ``max_failures`` forged or malformed IDs within ``window`` seconds.

    The block lasts ``block_for`` seconds. At most ``max_clients`` addresses are tracked in
    memory (the least recently seen are forgotten first), so memory stays bounded under a flood;
    shared counters expire by themselves after ``window`` / ``block_for``.
    """

    max_failures: int = 20
    window: float = 60.0
    block_for: float = 300.0
    max_clients: int = 10_000
    ipv6_prefix: int = 64

    def __post_init__(self) -> None:
        if not 1 <= self.max_failures <= MAX_MEMBERS:
            raise ConfigurationError(
                f"GuessingRule.max_failures must be between 1 and {MAX_MEMBERS}"
            )
        if self.window <= 0 or self.block_for <= 0:
            raise ConfigurationError("GuessingRule.window and block_for must be positive seconds")
        if self.max_clients < 1:
            raise ConfigurationError("GuessingRule.max_clients must be at least 1")
        if not 0 < self.ipv6_prefix <= 128:
            raise ConfigurationError("GuessingRule.ipv6_prefix must be between 1 and 128")


def client_key(ip: str | None, ipv6_prefix: int = 64) -> str | None:
    """The address a client is counted under: IPv4 as is, IPv6 by its prefix."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip[:64]
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped
        if mapped is not None:
            return str(mapped)  # ::ffff:a.b.c.d is one IPv4 client, not a /64 of them all
        return str(ipaddress.ip_network(f"{address}/{ipv6_prefix}", strict=False))
    return str(address)


# -- counters ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CounterCall:
    """One call a guard or limiter flow asks its driver to make on a :class:`Counters`."""

    method: str
    args: tuple[Any, ...] = ()


CounterFlow = Generator[CounterCall, Any, T]


class Counters(Protocol):
    """Expiring counters and marks, the state of the guard and the login limiter.

    * ``hit(key, member, window, now)`` adds one failure to ``key`` and returns how many the
      key holds. With a ``member``, repeats of the same member count once (a key is used
      either always with members or always without). The count starts at
      the first hit and is forgotten ``window`` seconds later.
    * ``mark(key, until, now)`` sets a mark (a block, a remembered device) that lapses at
      ``until``; ``marks(keys, now)`` returns, for each key, when its mark lapses or ``None``.
    * ``clear(keys)`` forgets counts and marks.

    Every value expires, so the state stays bounded without any sweeping by the caller.
    Async backends have the same methods as coroutines.
    """

    def hit(self, key: str, member: str | None, window: float, now: float) -> int: ...

    def mark(self, key: str, until: float, now: float) -> None: ...

    def marks(self, keys: Sequence[str], now: float) -> list[float | None]: ...

    def clear(self, keys: Sequence[str]) -> None: ...


@dataclass(slots=True)
class _Count:
    expires: float
    hits: int = 0
    members: set[str] = field(default_factory=set)


class MemoryCounters:
    """:class:`Counters` in this process: bounded (least recently used dropped), thread-safe."""

    def __init__(self, max_keys: int = 10_000) -> None:
        if max_keys < 1:
            raise ConfigurationError("MemoryCounters.max_keys must be at least 1")
        self.max_keys = max_keys
        self._counts: OrderedDict[str, _Count] = OrderedDict()
        self._marks: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._counts) + len(self._marks)

    def __repr__(self) -> str:
        return f"MemoryCounters(max_keys={self.max_keys})"

    def hit(self, key: str, member: str | None, window: float, now: float) -> int:
        with self._lock:
            count = self._counts.get(key)
            if count is None or now >= count.expires:
                count = _Count(expires=now + window)
                self._counts[key] = count
            self._counts.move_to_end(key)
            while len(self._counts) > self.max_keys:
                self._counts.popitem(last=False)
            if member is None:
                count.hits += 1
            elif member not in count.members and len(count.members) < MAX_MEMBERS:
                count.members.add(member)
                count.hits += 1
            return count.hits

    def mark(self, key: str, until: float, now: float) -> None:
        with self._lock:
            self._marks[key] = until
            self._marks.move_to_end(key)
            while len(self._marks) > self.max_keys:
                self._marks.popitem(last=False)

    def marks(self, keys: Sequence[str], now: float) -> list[float | None]:
        if not self._marks:
            return [None] * len(keys)  # the common case: nothing is marked
        found: list[float | None] = []
        with self._lock:
            for key in keys:
                until = self._marks.get(key)
                if until is not None and now >= until:
                    del self._marks[key]
                    until = None
                found.append(until)
        return found

    def clear(self, keys: Sequence[str]) -> None:
        with self._lock:
            for key in keys:
                self._counts.pop(key, None)
                self._marks.pop(key, None)


def run_local(flow: CounterFlow[T], counters: MemoryCounters) -> T:
    """Drive a counter flow against in-process counters (no I/O, so no driver needed)."""
    try:
        call = next(flow)
        while True:
            call = flow.send(getattr(counters, call.method)(*call.args))
    except StopIteration as done:
        value: T = done.value
        return value


# -- the guard's decisions -----------------------------------------------------------------


def _block_key(address: str) -> str:
    return f"gb:{address}"


def _fail_key(address: str) -> str:
    return f"gf:{address}"


def blocked_for(rule: GuessingRule, ip: str | None, now: float) -> CounterFlow[float | None]:
    """Seconds ``ip`` stays blocked, or ``None``."""
    address = client_key(ip, rule.ipv6_prefix)
    if address is None:
        return None
    found: list[float | None] = yield CounterCall("marks", ([_block_key(address)], now))
    until = found[0]
    return None if until is None or until <= now else until - now


def strike(
    rule: GuessingRule, ip: str | None, presented: str | None, now: float
) -> CounterFlow[tuple[bool, float | None]]:
    """Count one forged ID from ``ip``: (whether this failure started a block, seconds the
    address stays blocked if it already was, else ``None``).

    ``presented`` is a fingerprint of the value: the same value presented again counts once
    (a browser repeats a cookie on every page and asset). Without one, every failure counts.
    """
    address = client_key(ip, rule.ipv6_prefix)
    if address is None:
        return False, None
    found: list[float | None] = yield CounterCall("marks", ([_block_key(address)], now))
    until = found[0]
    if until is not None and until > now:
        return False, until - now  # blocked: the block is not extended by its own refusals
    member = presented if presented is not None else uuid.uuid4().hex
    hits: int = yield CounterCall("hit", (_fail_key(address), member, rule.window, now))
    if hits != rule.max_failures:
        return False, None
    # Exactly one failure (the one that reaches the threshold) starts the block, also when
    # several instances count concurrently: the shared count passes that value only once.
    yield CounterCall("mark", (_block_key(address), now + rule.block_for, now))
    yield CounterCall("clear", ([_fail_key(address)],))
    return True, None  # refusals start with the next request


class GuessingGuard:
    """The guard over in-process counters, for direct use and tests."""

    def __init__(
        self, rule: GuessingRule, clock: Clock, counters: MemoryCounters | None = None
    ) -> None:
        self.rule = rule
        self.clock = clock
        self.counters = counters or MemoryCounters(rule.max_clients)

    def __len__(self) -> int:
        return len(self.counters)

    def client_key(self, ip: str | None) -> str | None:
        return client_key(ip, self.rule.ipv6_prefix)

    def retry_after(self, ip: str | None) -> float | None:
        """Seconds until ``ip`` may try again, or ``None`` when it is not blocked."""
        return run_local(blocked_for(self.rule, ip, self.clock.now()), self.counters)

    def failure(self, ip: str | None, presented: str | None = None) -> bool:
        """Count one failed ID from ``ip``; True exactly when this failure starts a block."""
        flow = strike(self.rule, ip, presented, self.clock.now())
        started, _ = run_local(flow, self.counters)
        return started
