"""Guard and limiter counters shared through the Redis store's server.

Every key lives under the store's hash tag (``{prefix}:g:...``), so it sits on the same Redis
Cluster slot as the sessions, and every key carries a TTL: a count expires ``window`` after
its first hit, a mark (a block, a remembered device) when it lapses. Nothing needs sweeping and
the key count is bounded by the traffic of one window. ``revoke everyone`` leaves these keys
alone (it deletes session keys only).

The calls go through the store's own client, so its time-outs bound them too; a failing call
is the store contract's :class:`~sessionward.errors.StoreUnavailable`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..core.guessing import MAX_MEMBERS
from ..stores.redis import AsyncRedisStore, RedisStore, _translate

# KEYS: the count. ARGV: the member ('' for a plain count), window in ms, member cap.
# A member set counts distinct values (the same dead cookie counts once); the TTL is set only
# by the first hit (NX), so a steady trickle cannot keep a count alive forever.
_HIT = """
local n
if ARGV[1] == '' then
  n = redis.call('INCR', KEYS[1])
else
  if redis.call('SCARD', KEYS[1]) < tonumber(ARGV[3]) then
    redis.call('SADD', KEYS[1], ARGV[1])
  end
  n = redis.call('SCARD', KEYS[1])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2], 'NX')
return n
"""


def _ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


def _until(raw: Any) -> float | None:
    if raw is None:
        return None
    try:
        return float(raw)
    except (TypeError, ValueError):
        return None


class _Keys:
    """Key names and the parts of each call, shared by the sync and async counters."""

    def __init__(self, store: RedisStore | AsyncRedisStore) -> None:
        self.tag = store._layout.tag
        self._hit: Any = store.client.register_script(_HIT)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(tag={self.tag!r})"

    def _key(self, key: str, kind: str = "c") -> str:
        return f"{self.tag}g:{kind}:{key}"

    def _hit_call(self, key: str, member: str | None, window: float) -> dict[str, Any]:
        return {"keys": [self._key(key)], "args": [member or "", _ms(window), MAX_MEMBERS]}

    def _marks(self, keys: Sequence[str]) -> list[str]:
        return [self._key(k, "m") for k in keys]

    @staticmethod
    def _live(raw: Sequence[Any], now: float) -> list[float | None]:
        found = [_until(value) for value in raw]
        return [None if u is None or u <= now else u for u in found]

    def _both(self, keys: Sequence[str]) -> list[str]:
        return [self._key(k, kind) for k in keys for kind in "cm"]


class RedisCounters(_Keys):
    """:class:`~sessionward.core.guessing.Counters` on a :class:`RedisStore`'s server."""

    def __init__(self, store: RedisStore) -> None:
        super().__init__(store)
        self.client = store.client

    def hit(self, key: str, member: str | None, window: float, now: float) -> int:
        with _translate():
            return int(self._hit(**self._hit_call(key, member, window)))

    def mark(self, key: str, until: float, now: float) -> None:
        # The TTL is relative (the app's clock need not match the server's); the value is the
        # deadline by the app's clock, which marks() compares with.
        with _translate():
            self.client.set(self._key(key, "m"), repr(until), px=_ms(until - now))

    def marks(self, keys: Sequence[str], now: float) -> list[float | None]:
        with _translate():
            return self._live(self.client.mget(self._marks(keys)), now)

    def clear(self, keys: Sequence[str]) -> None:
        if keys:
            with _translate():
                self.client.unlink(*self._both(keys))


class AsyncRedisCounters(_Keys):
    """The async twin of :class:`RedisCounters`, on an :class:`AsyncRedisStore`'s server."""

    def __init__(self, store: AsyncRedisStore) -> None:
        super().__init__(store)
        self.client = store.client

    async def hit(self, key: str, member: str | None, window: float, now: float) -> int:
        with _translate():
            return int(await self._hit(**self._hit_call(key, member, window)))

    async def mark(self, key: str, until: float, now: float) -> None:
        with _translate():
            await self.client.set(self._key(key, "m"), repr(until), px=_ms(until - now))

    async def marks(self, keys: Sequence[str], now: float) -> list[float | None]:
        with _translate():
            return self._live(await self.client.mget(self._marks(keys)), now)

    async def clear(self, keys: Sequence[str]) -> None:
        if keys:
            with _translate():
                await self.client.unlink(*self._both(keys))


def shared_redis_counters(store: Any, *, asynchronous: bool) -> Any:
    return AsyncRedisCounters(store) if asynchronous else RedisCounters(store)
