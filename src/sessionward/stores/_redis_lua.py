"""Key layout, record codec and Lua scripts shared by the sync and async Redis stores.

Layout (``T`` is the store's hash tag, e.g. ``{sessionward}``)::

    T:s:<key>     HASH  one session: fixed fields plus ``d:<name>`` / ``m:<name>`` per data /
                        meta key, each a JSON value. TTL = the record's ``expires_at``.
    T:h:<handle>  STRING the session key a public handle names. Same TTL as the session.
    T:u:<user>    ZSET  the user's session keys scored by expiry (ms). TTL = the latest member's.

With one bucket (the default) every key starts with the same hash tag, so every key of one
store lives in one Redis Cluster slot. With ``buckets=N`` the tag is the bucket's,
``{prefix#b}``, and a session's key, its handle and its user's index are drawn into one bucket
(:mod:`sessionward.core.placement`). Either way each Lua script below, however many keys it
touches, is a single-slot atomic step: the scripts build every key name from the tag they are
given (``ARGV[1]``), which is the tag of the bucket the call is about.

Data keys are separate hash fields, so a per-key delta (``RecordUpdate``) is applied with
``HSET``/``HDEL`` inside a script that first checks the session still exists: concurrent
requests changing different keys both survive, and a save never resurrects a deleted session.

The per-user index needs no keyspace notifications: sessions expire by TTL and leave a stale
member behind. Members are scored by their session's expiry, so the stale ones are the lowest
scores: every script that writes or reads the index first trims them (``settle``: at most
``TRIM`` members per call, so no script holds Redis for more than a fraction of a millisecond
however large an index grew) and sets the index's TTL to its longest-living member's expiry
(shorter as well as longer). An index from the previous layout (scored by last-seen seconds,
all below ``LEGACY``) is converted the same way, newest members first, a batch per write.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ..core import anomaly, json_text, renewal
from ..core.records import SessionRecord, encode_value, record_of
from .base import RecordUpdate

# How many index members one script call converts or drops (and log-out-everywhere deletes).
INDEX_BATCH = 200

_PRELUDE = """
local P = ARGV[1]
local TRIM, LEGACY = @TRIM@, 1e11
local function skey(k) return P .. 's:' .. k end
local function hkey(h) return P .. 'h:' .. h end
local function ukey(u) return P .. 'u:' .. u end
local function remove(k)
  local fields = redis.call('HGETALL', skey(k))
  if #fields == 0 then return false end
  local v = redis.call('HMGET', skey(k), 'h', 'u')
  redis.call('DEL', skey(k))
  if v[1] and redis.call('GET', hkey(v[1])) == k then redis.call('DEL', hkey(v[1])) end
  if v[2] then redis.call('ZREM', ukey(v[2]), k) end
  return fields
end
local function extend(key, ms)
  local cur = redis.call('PEXPIRETIME', key)
  if cur ~= -2 and (cur == -1 or cur < tonumber(ms)) then redis.call('PEXPIREAT', key, ms) end
end
local function ms_of(ex) return math.ceil(tonumber(ex) * 1000) end
local function clock_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function rescore(idx, members, now)
  for _, m in ipairs(members) do
    local ex = redis.call('HGET', skey(m), 'ex')
    if ex and ms_of(ex) > now then redis.call('ZADD', idx, ms_of(ex), m)
    else redis.call('ZREM', idx, m) end
  end
end
local function settle(idx)
  local now = clock_ms()
  rescore(idx, redis.call('ZREVRANGEBYSCORE', idx, '(' .. LEGACY, '-inf', 'LIMIT', 0, TRIM), now)
  rescore(idx, redis.call('ZRANGEBYSCORE', idx, LEGACY, now, 'LIMIT', 0, TRIM), now)
  local last = redis.call('ZRANGE', idx, -1, -1, 'WITHSCORES')
  if #last == 0 or tonumber(last[2]) <= now then return end
  if redis.call('ZCOUNT', idx, '-inf', '(' .. LEGACY) == 0 then
    redis.call('PEXPIREAT', idx, last[2])
  else
    extend(idx, last[2])  -- old-layout members remain: never cut their TTL short
  end
end
local function hset_from(key, first)
  local i = first
  while i <= #ARGV do
    local last = math.min(i + 399, #ARGV)
    redis.call('HSET', key, unpack(ARGV, i, last))
    i = last + 1
  end
end
""".replace("@TRIM@", str(INDEX_BATCH))

# KEYS: new session, its handle, the user index (or the session again), the replaced session
# (or the session again). ARGV: tag, key, handle, user or '', replaces or '', now,
# max sessions (0 = none), policy, expiry ms, last seen (unused), then field/value pairs.
CREATE = (
    _PRELUDE
    + """
local k, h, u, old = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if redis.call('EXISTS', skey(k)) == 1 then return redis.error_reply('SWEXISTS') end
local owner = redis.call('GET', hkey(h))
if owner and owner ~= old then return redis.error_reply('SWEXISTS') end
local evicted = {}
local max = tonumber(ARGV[7])
if u ~= '' then settle(ukey(u)) end
if u ~= '' and max > 0 then
  local now = tonumber(ARGV[6])
  local live = {}
  for _, m in ipairs(redis.call('ZRANGE', ukey(u), 0, -1)) do
    local v = redis.call('HMGET', skey(m), 'ls', 'c', 'ex')
    if not v[1] then
      redis.call('ZREM', ukey(u), m)
    elseif m ~= old and tonumber(v[3]) > now then
      table.insert(live, {m, tonumber(v[1]), tonumber(v[2])})
    end
  end
  local excess = #live + 1 - max
  if excess > 0 then
    if ARGV[8] == 'reject_new' then return redis.error_reply('SWLIMIT') end
    table.sort(live, function(a, b)
      if a[2] ~= b[2] then return a[2] < b[2] end
      return a[3] < b[3]
    end)
    for i = 1, excess do
      table.insert(evicted, live[i][1])
      table.insert(evicted, remove(live[i][1]))
    end
  end
end
if old ~= '' then remove(old) end
hset_from(skey(k), 11)
redis.call('PEXPIREAT', skey(k), ARGV[9])
redis.call('SET', hkey(h), k, 'PXAT', ARGV[9])
if u ~= '' then
  redis.call('ZADD', ukey(u), ARGV[9], k)
  extend(ukey(u), ARGV[9])
end
return evicted
"""
)

# KEYS: the session. ARGV: tag, key, #deletes, #sets (data and meta), last seen or '',
# expires or '', expiry ms or '', then deleted fields, then field/value pairs. Returns 1, or
# nil when the session is gone (nothing written: a save never resurrects a deleted session).
# The stores queue it in MULTI with a read of the session right after it (``read_back``):
# the record goes to the client as plain RESP, which costs Redis about a third of returning
# HGETALL through Lua (measured in docs/benchmarks.md, "Redis client comparison").
UPDATE = (
    _PRELUDE
    + """
local key, k = KEYS[1], ARGV[2]
if redis.call('HEXISTS', key, 'h') == 0 then return false end  -- gone (see FIELDS_ONLY)
local ndel, nset = tonumber(ARGV[3]), tonumber(ARGV[4])
local first = 8 + ndel
local i = 8
while i < first do  -- variadic HDEL/HSET, in chunks that fit Lua's stack
  local last = math.min(i + 399, first - 1)
  redis.call('HDEL', key, unpack(ARGV, i, last))
  i = last + 1
end
if nset > 0 then hset_from(key, first) end
local v = redis.call('HMGET', key, 'ls', 'ex', 'h', 'u')
if ARGV[5] ~= '' and tonumber(ARGV[5]) > tonumber(v[1]) then
  redis.call('HSET', key, 'ls', ARGV[5])
end
if ARGV[6] ~= '' and tonumber(ARGV[6]) > tonumber(v[2]) then
  redis.call('HSET', key, 'ex', ARGV[6])
  redis.call('PEXPIREAT', key, ARGV[7])
  redis.call('PEXPIREAT', hkey(v[3]), ARGV[7])
  if v[4] then
    redis.call('ZADD', ukey(v[4]), ARGV[7], k)
    settle(ukey(v[4]))
  end
end
return 1
"""
)

# A change of data or meta only (no touch: the common save, as touches are throttled) needs no
# script: the stores send HDEL / HSET / PEXPIRE NX / the read in one MULTI (field_commands).
# If the session is gone, that HSET leaves a hash of a few fields and no handle (``h``): no
# session at all. Every reader treats it as absent (decode_record, UPDATE, RENEW, remove), the
# saving store deletes it when its read finds no handle, and PEXPIRE NX gives it a TTL of
# FIELDS_ONLY_TTL_MS meanwhile (a live session always has a TTL already, so NX leaves it alone).
# A save therefore still never resurrects a deleted session. It costs Redis about half of
# running UPDATE (docs/benchmarks.md, "Redis client comparison").
FIELDS_ONLY_TTL_MS = 60_000

# UPDATE returning the record itself, for clients that cannot queue EVALSHA in MULTI (redis-py's
# RedisCluster refuses to): one script call, but Redis pays for the HGETALL going through Lua.
UPDATE_READ = UPDATE.replace("\nreturn 1\n", "\nreturn redis.call('HGETALL', key)\n")

# KEYS: the handle key. ARGV: tag. Returns {key, fields} or nil.
GET_BY_HANDLE = (
    _PRELUDE
    + """
local k = redis.call('GET', KEYS[1])
if not k then return false end
local fields = redis.call('HGETALL', skey(k))
if #fields == 0 then return false end
return {k, fields}
"""
)

# KEYS: the session. ARGV: tag, key. Returns the deleted fields or nil.
DELETE = _PRELUDE + "return remove(ARGV[2])\n"

# KEYS: the user index. ARGV: tag. Returns key, fields, key, fields... pruning dead members.
LIST_USER = (
    _PRELUDE
    + """
settle(KEYS[1])
local out = {}
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local fields = redis.call('HGETALL', skey(m))
  if #fields == 0 then
    redis.call('ZREM', KEYS[1], m)
  else
    table.insert(out, m)
    table.insert(out, fields)
  end
end
return out
"""
)

# KEYS: the user index. ARGV: tag, key to keep or ''. Deletes at most TRIM sessions a call (a
# huge index never blocks Redis); returns how many others remain, then key, fields... of the
# deleted ones. The caller repeats while some remain.
DELETE_USER = (
    _PRELUDE
    + """
local out = {0}
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, TRIM)) do
  if m ~= ARGV[2] then
    local fields = remove(m)
    redis.call('ZREM', KEYS[1], m)
    if fields then
      table.insert(out, m)
      table.insert(out, fields)
    end
  end
end
out[1] = redis.call('ZCARD', KEYS[1])
if ARGV[2] ~= '' and redis.call('ZSCORE', KEYS[1], ARGV[2]) then out[1] = out[1] - 1 end
return out
"""
)

# KEYS: any key of the store (routing). ARGV: tag, cutoff or '' (delete all), session keys...
# Returns how many sessions were deleted.
DELETE_MANY = (
    _PRELUDE
    + """
local n = 0
for i = 3, #ARGV do
  local ex = redis.call('HGET', skey(ARGV[i]), 'ex')
  if ex and (ARGV[2] == '' or tonumber(ex) <= tonumber(ARGV[2])) then
    remove(ARGV[i])
    n = n + 1
  end
end
return n
"""
)

# KEYS: the session, its new key, the stub's handle key. ARGV: tag, key, new key, handle,
# stub expiry ms, then the stub's field/value pairs. RENAME keeps the hash and its TTL.
RENEW = (
    _PRELUDE
    + """
local old, new = KEYS[1], KEYS[2]
local v = redis.call('HMGET', old, 'h', 'u', 'ex')
if v[1] ~= ARGV[4] or redis.call('EXISTS', new) == 1 then return false end
if redis.call('EXISTS', KEYS[3]) == 1 then return false end
redis.call('RENAME', old, new)
redis.call('SET', hkey(v[1]), ARGV[3], 'KEEPTTL')
if v[2] then
  redis.call('ZREM', ukey(v[2]), ARGV[2])
  redis.call('ZADD', ukey(v[2]), ms_of(v[3]), ARGV[3])
end
hset_from(old, 6)
redis.call('PEXPIREAT', old, ARGV[5])
redis.call('SET', KEYS[3], ARGV[2], 'PXAT', ARGV[5])
return redis.call('HGETALL', new)
"""
)


def text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def number(value: float) -> str:
    """A float as text that Lua compares correctly and Python reads back exactly."""
    return repr(float(value))


def expiry_ms(expires_at: float) -> int:
    return math.ceil(expires_at * 1000)


def encode_record(record: SessionRecord) -> list[str]:
    fields = [
        "h",
        record.handle,
        "c",
        number(record.created_at),
        "ls",
        number(record.last_seen_at),
        "ex",
        number(record.expires_at),
        "o",
        record.origin,
    ]
    if record.user_id is not None:
        fields += ["u", record.user_id]
    if record.authenticated_at is not None:
        fields += ["a", number(record.authenticated_at)]
    if record.ip is not None:
        fields += ["ip", record.ip]
    if record.user_agent is not None:
        fields += ["ua", record.user_agent]
    for name, value in record.data.items():
        fields += ["d:" + name, encode_value(value)]
    for name, value in record.meta.items():
        fields += ["m:" + name, encode_value(value)]
    return fields


def _field_values(change: RecordUpdate) -> list[str]:
    sets: list[str] = []
    for name, value in change.set_data.items():
        sets += ["d:" + name, encode_value(value)]
    for name, value in change.set_meta.items():
        sets += ["m:" + name, encode_value(value)]
    return sets


def encode_update(key: str, change: RecordUpdate) -> list[str]:
    deletes = ["d:" + name for name in change.delete_data]
    sets = _field_values(change)
    ls = "" if change.last_seen_at is None else number(change.last_seen_at)
    ex = "" if change.expires_at is None else number(change.expires_at)
    ms = "" if change.expires_at is None else str(expiry_ms(change.expires_at))
    return [key, str(len(deletes)), str(len(sets) // 2), ls, ex, ms, *deletes, *sets]


#: The fixed fields of a session hash, in the order ``decode_fields`` reads them.
_BASE = ("h", "u", "c", "ls", "ex", "a", "o", "ip", "ua")
#: Every meta key sessionward writes. Apps have no way to write meta, so a save's reply
#: (``RecordUpdate.reply_data`` false) reads back exactly these fields and no data at all;
#: a test checks that every ``META_*`` name of the core is listed here.
META_KEYS = (
    renewal.META_STUB,
    renewal.META_RENEWED_AT,
    anomaly.META_DEVICE,
    anomaly.META_DEVICE_KEY,
    anomaly.META_LAST_IP,
    anomaly.META_LAST_USER_AGENT,
    anomaly.META_FLAGS,
    anomaly.META_REAUTH,
    anomaly.META_BINDING,
)
_META_FIELDS = tuple("m:" + name for name in META_KEYS)


def read_back(session: str, change: RecordUpdate) -> tuple[Any, ...]:
    """The command that reads a saved session back: all of it, or (``reply_data`` false) only
    its fixed and meta fields, which ``decode_fields`` decodes."""
    if change.reply_data:
        return ("HGETALL", session)
    return ("HMGET", session, *_BASE, *_META_FIELDS)


def as_read(read: tuple[Any, ...], fields: Sequence[Any] | None) -> Any:
    """``UPDATE_READ``'s reply (the whole hash, flat) in the shape ``read`` would have had."""
    if read[0] == "HGETALL":
        return fields or []
    if not fields:
        return [None] * (len(read) - 2)
    pairs = dict(zip(fields[::2], fields[1::2], strict=True))
    return [pairs.get(name if isinstance(fields[0], str) else name.encode()) for name in read[2:]]


def decode_reply(key: str, change: RecordUpdate, raw: Any) -> SessionRecord | None:
    """The record from ``read_back``'s reply."""
    return decode_record(key, raw) if change.reply_data else decode_fields(key, raw)


def decode_fields(key: str, values: Sequence[Any]) -> SessionRecord | None:
    """A record with no data from ``HMGET`` of ``_BASE`` and ``_META_FIELDS``."""
    if values[0] is None:
        return None  # no handle: gone, or fields a save wrote after a delete (FIELDS_ONLY)
    if isinstance(values[0], bytes):
        values = [None if v is None else v.decode("utf-8") for v in values]
    h, u, c, ls, ex, a, o, ip, ua = values[:9]
    meta: dict[str, Any] = {}
    present = [(name, v) for name, v in zip(META_KEYS, values[9:], strict=True) if v is not None]
    if present:
        parsed = json_text.loads("[" + ",".join(v for _, v in present) + "]")
        meta = {name: value for (name, _), value in zip(present, parsed, strict=True)}
    return record_of(
        key,
        h,
        u,
        float(c),
        float(ls),
        float(ex),
        None if a is None else float(a),
        o,
        ip,
        ua,
        {},
        meta,
    )


def field_commands(session: str, change: RecordUpdate) -> list[tuple[Any, ...]] | None:
    """The plain commands of a data/meta-only change (see FIELDS_ONLY_TTL_MS), or ``None``
    when the change touches last-seen or expiry and needs ``UPDATE``. The last reads the
    session back (``read_back``)."""
    if change.last_seen_at is not None or change.expires_at is not None:
        return None
    commands: list[tuple[Any, ...]] = []
    if change.delete_data:
        commands.append(("HDEL", session, *("d:" + name for name in change.delete_data)))
    sets = _field_values(change)
    if sets:
        commands.append(("HSET", session, *sets))
        commands.append(("PEXPIRE", session, FIELDS_ONLY_TTL_MS, "NX"))
    commands.append(read_back(session, change))
    return commands


def decode_record(key: str, raw: Mapping[Any, Any] | Sequence[Any]) -> SessionRecord | None:
    """A record from ``HGETALL`` output (a dict from the client, a flat list from Lua)."""
    if not raw:
        return None
    flat = [x for pair in raw.items() for x in pair] if isinstance(raw, Mapping) else raw
    if isinstance(flat[0], bytes):
        flat = [x.decode("utf-8") for x in flat]
    base: dict[str, str] = {}
    names: list[str] = []
    values: list[str] = []
    for i in range(0, len(flat), 2):
        name = flat[i]
        if name[1:2] == ":" and name[0] in "dm":
            names.append(name)
            values.append(flat[i + 1])
        else:
            base[name] = flat[i + 1]
    if "h" not in base:
        return None  # fields a save wrote after a delete: not a session (FIELDS_ONLY_TTL_MS)
    # Each value is one JSON text: parse them all in a single call (this runs every request).
    parsed = json_text.loads("[" + ",".join(values) + "]") if values else []
    data: dict[str, Any] = {}
    meta: dict[str, Any] = {}
    for name, value in zip(names, parsed, strict=True):  # strict: a tampered value fails loudly
        (data if name[0] == "d" else meta)[name[2:]] = value
    auth = base.get("a")
    return record_of(
        key,
        base["h"],
        base.get("u"),
        float(base["c"]),
        float(base["ls"]),
        float(base["ex"]),
        None if auth is None else float(auth),
        base["o"],  # type: ignore[arg-type]
        base.get("ip"),
        base.get("ua"),
        data,
        meta,
    )


def decode_batch(raw: Sequence[Any]) -> tuple[int, list[SessionRecord]]:
    """``DELETE_USER``'s reply: how many remain, and the records deleted by this call."""
    return int(raw[0]), decode_pairs(raw[1:])


def decode_pairs(raw: Sequence[Any] | None) -> list[SessionRecord]:
    """Records from a script's ``key, fields, key, fields...`` reply."""
    out: list[SessionRecord] = []
    items = list(raw or [])
    for i in range(0, len(items), 2):
        record = decode_record(text(items[i]), items[i + 1])
        if record is not None:
            out.append(record)
    return out
