"""Refresh tokens and the revocation list in Redis, for many app instances.

Layout (``T`` is the store's hash tag, e.g. ``{sessionward-tokens}:``; one Cluster slot)::

    T:rt:<key>      HASH  one refresh token (fields of RefreshRecord). TTL = its expires_at.
    T:rs:<session>  ZSET  the keys of a session's refresh tokens scored by expiry (ms), trimmed
                          on every write. TTL = the longest-living token's.
    T:rv            ZSET  revoked session handles scored by "until" (ms), trimmed as written.
    T:all           HASH  the "not before" of the last end_all, with TTL = its "until".

``add``, ``rotate`` and ``end_session`` are Lua scripts, each one atomic step: ``rotate`` is a
true compare-and-set however many app instances refresh the same token at once. Refresh tokens
expire by TTL; each write drops (at most 200) members of expired tokens from the session's index
and ended revocations from the list, so neither grows with a session's age or the number of
logouts (``purge_expired`` trims the revocation list in full). A session index of the previous
layout (a plain SET) is converted on its first write. ``end_all`` scans and is not
atomic with concurrent logins (it is an administrator's break-glass; the "not before" it sets is).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

try:
    import redis
    import redis.asyncio as aioredis
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "the Redis token store needs redis-py: pip install 'sessionward[redis,jwt]'"
    ) from exc

from ..calls import Flow, StoreCall, drive, drive_async
from ..errors import ConfigurationError, DuplicateKey, StoreUnavailable
from .refresh import RefreshRecord
from .store import Revocations

_PREFIX = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_FIELDS = ("family", "session", "user_id", "issued_at", "expires_at")
_EXTEND = """
local TRIM = 200
local function clock_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function trim(key, upto)
  local gone = redis.call('ZRANGEBYSCORE', key, '-inf', upto, 'LIMIT', 0, TRIM)
  if #gone > 0 then redis.call('ZREM', key, unpack(gone)) end
end
local function members_of(key)
  if redis.call('TYPE', key)['ok'] == 'set' then return redis.call('SMEMBERS', key) end
  return redis.call('ZRANGE', key, 0, -1)
end
-- Index one token of a session: the set of the previous layout becomes a sorted set first
-- (members scored by their token's expiry), expired members leave, and the index lives as
-- long as its longest-living token.
local function index(key, member, ms, tokenkey)
  if redis.call('TYPE', key)['ok'] == 'set' then
    local tag = string.sub(tokenkey, 1, #tokenkey - #member - 3)
    local old = redis.call('SMEMBERS', key)
    redis.call('DEL', key)
    for _, k in ipairs(old) do
      local at = redis.call('PEXPIRETIME', tag .. 'rt:' .. k)
      if at > 0 then redis.call('ZADD', key, at, k) end
    end
  end
  redis.call('ZADD', key, ms, member)
  trim(key, clock_ms())
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if #last > 0 then redis.call('PEXPIREAT', key, last[2]) end
end
"""
# KEYS: token, session set. ARGV: token key, expiry ms, then field/value pairs.
ADD = (
    _EXTEND
    + """
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.error_reply('SWEXISTS') end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
index(KEYS[2], ARGV[1], ARGV[2], KEYS[1])
return 1
"""
)
# KEYS: presented token, successor, session set. ARGV: now, sealed, successor key, expiry ms,
# successor field/value pairs.
ROTATE = (
    _EXTEND
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[1], 'rotated_at') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'rotated_at', ARGV[1], 'sealed', ARGV[2])
redis.call('HSET', KEYS[2], unpack(ARGV, 5))
redis.call('PEXPIREAT', KEYS[2], ARGV[4])
index(KEYS[3], ARGV[3], ARGV[4], KEYS[2])
return 1
"""
)
# KEYS: session index, revocation zset. ARGV: tag, session, until ms, now ms.
END_SESSION = (
    _EXTEND
    + """
local members = members_of(KEYS[1])
local count = 0
for _, k in ipairs(members) do count = count + redis.call('DEL', ARGV[1] .. 'rt:' .. k) end
redis.call('DEL', KEYS[1])
local cur = redis.call('ZSCORE', KEYS[2], ARGV[2])
if not cur or tonumber(cur) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
end
trim(KEYS[2], ARGV[4])
return count
"""
)


def _ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


def _num(value: float) -> str:
    return repr(float(value))


def _decode(raw: Mapping[Any, Any]) -> RefreshRecord | None:
    if not raw:
        return None
    text = {
        (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
        for k, v in raw.items()
    }
    key = text.get("key")
    if key is None:
        return None
    rotated = text.get("rotated_at")
    return RefreshRecord(
        key=key,
        family=text["family"],
        session=text["session"],
        user_id=text["user_id"],
        issued_at=float(text["issued_at"]),
        expires_at=float(text["expires_at"]),
        rotated_at=None if rotated is None else float(rotated),
        sealed=text.get("sealed"),
    )


def _pairs(record: RefreshRecord) -> list[str]:
    pairs = ["key", record.key]
    for name in _FIELDS:
        value = getattr(record, name)
        pairs += [name, _num(value) if isinstance(value, float) else str(value)]
    return pairs


@contextmanager
def _translate() -> Iterator[None]:
    try:
        yield
    except redis.ResponseError as exc:
        if str(exc).startswith("SWEXISTS"):
            raise DuplicateKey("refresh token key already exists") from exc
        raise StoreUnavailable(f"Redis error: {exc}") from exc
    except (redis.RedisError, OSError) as exc:
        raise StoreUnavailable(f"Redis unavailable: {exc}") from exc


class _Layout:
    def __init__(self, prefix: str) -> None:
        if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
            raise ConfigurationError("prefix must be 1-64 characters of letters, digits, _ . : -")
        self.tag = "{" + prefix + "}:"

    def token(self, key: str) -> str:
        return f"{self.tag}rt:{key}"

    def session(self, session: str) -> str:
        return f"{self.tag}rs:{session}"

    @property
    def revoked(self) -> str:
        return f"{self.tag}rv"

    @property
    def everything(self) -> str:
        return f"{self.tag}all"

    def add_call(self, record: RefreshRecord) -> tuple[list[str], list[Any]]:
        keys = [self.token(record.key), self.session(record.session)]
        return keys, [record.key, _ms(record.expires_at), *_pairs(record)]

    def rotate_call(
        self, key: str, successor: RefreshRecord, sealed: str, now: float
    ) -> tuple[list[str], list[Any]]:
        keys = [self.token(key), self.token(successor.key), self.session(successor.session)]
        args = [_num(now), sealed, successor.key, _ms(successor.expires_at), *_pairs(successor)]
        return keys, args

    def end_call(self, session: str, now: float, until: float) -> tuple[list[str], list[Any]]:
        args = [self.tag, session, _ms(until), _ms(now)]
        return [self.session(session), self.revoked], args

    def revocations(
        self, members: list[Any], everything: dict[Any, Any], now: float
    ) -> Revocations:
        sessions = frozenset(m.decode() if isinstance(m, bytes) else m for m in members)
        at = everything.get(b"at", everything.get("at"))
        until = everything.get(b"until", everything.get("until"))
        # The key's TTL follows the wall clock; "until" is checked against the caller's clock.
        if at is None or until is None or float(until) <= now:
            return Revocations(sessions, None)
        return Revocations(sessions, float(at))


_KEYS_MATCHING = "keys matching"  # the one call whose sync and async forms differ (an iterator)
_BATCH = 500


def _end_all(layout: _Layout, now: float, until: float) -> Flow[int]:
    """``end_all`` as Redis calls, for both twins: set the "not before", then delete every
    refresh token and session index in batches; returns the number of tokens deleted."""
    yield StoreCall(
        "hset", (layout.everything,), {"mapping": {"at": _num(now), "until": _num(until)}}
    )
    yield StoreCall("pexpireat", (layout.everything, _ms(until)))
    count = 0
    for pattern in ("rt:*", "rs:*"):
        names: list[Any] = yield StoreCall(_KEYS_MATCHING, (layout.tag + pattern,))
        for start in range(0, len(names), _BATCH):
            deleted = int((yield StoreCall("delete", tuple(names[start : start + _BATCH]))))
            count += deleted if pattern == "rt:*" else 0
    return count


_SCRIPTS = (ADD, ROTATE, END_SESSION)


def _client(kind: Any, name: str, url: str | None, client: Any, socket_timeout: float) -> Any:
    """The client a store uses: ``client``, or one ``kind`` (sync or asyncio) makes from ``url``."""
    if (url is None) == (client is None):
        raise ConfigurationError(f"give {name} exactly one of url= or client=")
    if client is not None:
        return client
    return kind.from_url(url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout)


class RedisTokenStore:
    """A :class:`~sessionward.tokens.store.TokenStore` in Redis (redis-py, sync)."""

    def __init__(
        self,
        *,
        url: str | None = None,
        client: redis.Redis | None = None,
        prefix: str = "sessionward-tokens",
        socket_timeout: float = 2.0,
    ) -> None:
        self.layout = _Layout(prefix)
        self.client: redis.Redis = _client(
            redis.Redis, "RedisTokenStore", url, client, socket_timeout
        )
        self._own = client is None
        self._add, self._rotate, self._end = map(self.client.register_script, _SCRIPTS)

    def add(self, record: RefreshRecord) -> None:
        keys, args = self.layout.add_call(record)
        with _translate():
            self._add(keys=keys, args=args)

    def get(self, key: str) -> RefreshRecord | None:
        with _translate():
            return _decode(self.client.hgetall(self.layout.token(key)))

    def rotate(self, key: str, successor: RefreshRecord, *, sealed: str, now: float) -> bool:
        keys, args = self.layout.rotate_call(key, successor, sealed, now)
        with _translate():
            return bool(self._rotate(keys=keys, args=args))

    def end_session(self, session: str, *, now: float, until: float) -> int:
        keys, args = self.layout.end_call(session, now, until)
        with _translate():
            return int(self._end(keys=keys, args=args))

    def end_all(self, *, now: float, until: float) -> int:
        with _translate():
            return drive(_end_all(self.layout, now, until), self._perform)

    def _perform(self, call: StoreCall) -> Any:
        if call.method == _KEYS_MATCHING:
            return list(self.client.scan_iter(match=call.args[0], count=_BATCH))
        return getattr(self.client, call.method)(*call.args, **call.kwargs)

    def revocations(self, now: float) -> Revocations:
        with _translate():
            pipe = self.client.pipeline(transaction=False)
            pipe.zrangebyscore(self.layout.revoked, f"({_ms(now)}", "+inf")
            pipe.hgetall(self.layout.everything)
            members, everything = pipe.execute()
        return self.layout.revocations(members, everything, now)

    def purge_expired(self, now: float) -> int:
        with _translate():
            self.client.zremrangebyscore(self.layout.revoked, "-inf", _ms(now))
        return 0  # refresh tokens expire by TTL

    def close(self) -> None:
        if self._own:
            self.client.close()


class AsyncRedisTokenStore:
    """The asyncio twin of :class:`RedisTokenStore` (``redis.asyncio``)."""

    def __init__(
        self,
        *,
        url: str | None = None,
        client: aioredis.Redis | None = None,
        prefix: str = "sessionward-tokens",
        socket_timeout: float = 2.0,
    ) -> None:
        self.layout = _Layout(prefix)
        self.client: aioredis.Redis = _client(
            aioredis.Redis, "AsyncRedisTokenStore", url, client, socket_timeout
        )
        self._own = client is None
        self._add, self._rotate, self._end = map(self.client.register_script, _SCRIPTS)

    async def add(self, record: RefreshRecord) -> None:
        keys, args = self.layout.add_call(record)
        with _translate():
            await self._add(keys=keys, args=args)

    async def get(self, key: str) -> RefreshRecord | None:
        with _translate():
            return _decode(await self.client.hgetall(self.layout.token(key)))

    async def rotate(self, key: str, successor: RefreshRecord, *, sealed: str, now: float) -> bool:
        keys, args = self.layout.rotate_call(key, successor, sealed, now)
        with _translate():
            return bool(await self._rotate(keys=keys, args=args))

    async def end_session(self, session: str, *, now: float, until: float) -> int:
        keys, args = self.layout.end_call(session, now, until)
        with _translate():
            return int(await self._end(keys=keys, args=args))

    async def end_all(self, *, now: float, until: float) -> int:
        with _translate():
            return await drive_async(_end_all(self.layout, now, until), self._perform)

    async def _perform(self, call: StoreCall) -> Any:
        if call.method == _KEYS_MATCHING:
            return [n async for n in self.client.scan_iter(match=call.args[0], count=_BATCH)]
        return await getattr(self.client, call.method)(*call.args, **call.kwargs)

    async def revocations(self, now: float) -> Revocations:
        with _translate():
            pipe = self.client.pipeline(transaction=False)
            pipe.zrangebyscore(self.layout.revoked, f"({_ms(now)}", "+inf")
            pipe.hgetall(self.layout.everything)
            members, everything = await pipe.execute()
        return self.layout.revocations(members, everything, now)

    async def purge_expired(self, now: float) -> int:
        with _translate():
            await self.client.zremrangebyscore(self.layout.revoked, "-inf", _ms(now))
        return 0

    async def close(self) -> None:
        if self._own:
            await self.client.aclose()
