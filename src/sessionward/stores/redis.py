"""Redis stores for many app instances: :class:`RedisStore` and :class:`AsyncRedisStore`.

Each operation is one round trip: a plain ``HGETALL`` for ``get`` (the read every request
makes) and one Lua script for everything that must be atomic (create with rotation and the
per-user limit, delta updates, deletes and the user index). The key layout and the scripts are
in :mod:`sessionward.stores._redis_lua`; every key of a session shares one hash tag, so the
store is safe on Redis Cluster, and with ``buckets`` one store spreads over its shards
(:mod:`sessionward.core.placement`).

Time-outs are bounded (``socket_timeout``, ``connect_timeout``) and a failed call is not
retried by default: a dead or slow Redis surfaces as
:class:`~sessionward.errors.StoreUnavailable` (a 503) within the time-out, and the next request
reconnects by itself. With an injected client, its own time-outs apply.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

try:
    import redis
    import redis.asyncio as aioredis
    from redis.backoff import NoBackoff
    from redis.retry import Retry
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "sessionward's Redis store needs redis-py: pip install 'sessionward[redis]'"
    ) from exc

from ..calls import Flow, StoreCall, drive, drive_async
from ..core.placement import Placement
from ..core.records import SessionRecord
from ..errors import (
    ConfigurationError,
    DuplicateKey,
    SessionLimitExceeded,
    StoreUnavailable,
)
from . import _redis_lua as lua
from .base import RecordUpdate, SessionLimit

try:
    from ._redis_direct import DirectCommands
    from ._resp import Multiplexer
except ImportError:  # pragma: no cover - hiredis missing: redis-py for everything
    DirectCommands = None  # type: ignore[assignment,misc]
    Multiplexer = None  # type: ignore[assignment,misc]

_PREFIX_SHAPE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_SCAN_BATCH = 500
# Log-out-everywhere deletes a user's sessions 200 per script call; this many calls at most
# (an index of a million members) before it gives up on the rest.
_MAX_BATCHES = 5000
_SCRIPTS = (
    "CREATE",
    "UPDATE",
    "UPDATE_READ",
    "GET_BY_HANDLE",
    "DELETE",
    "LIST_USER",
    "DELETE_USER",
    "DELETE_MANY",
    "RENEW",
)


class _Layout:
    """Key names and argument lists, shared by the sync and async stores.

    With ``buckets=1`` every key has the tag ``{prefix}``; with more, a session's keys have
    the tag ``{prefix#b}`` of their bucket ``b`` (``core.placement``; ``#`` cannot occur in a
    prefix, so no two stores share a tag). ``tag`` stays ``{prefix}:`` either way: the guard's
    counters and the audit streams keep it.
    """

    def __init__(self, prefix: str, buckets: int = 1) -> None:
        if not isinstance(prefix, str) or not _PREFIX_SHAPE.fullmatch(prefix):
            raise ConfigurationError(
                "prefix must be 1-64 characters of letters, digits and _ . : -"
            )
        self.prefix = prefix
        self.tag = "{" + prefix + "}:"
        self.placement: Placement | None = None
        self._tags = [self.tag]
        if buckets != 1:
            try:
                self.placement = Placement(buckets)
            except ValueError as exc:
                raise ConfigurationError(
                    f"{exc}; or 1 (the default): one hash tag, so one Redis Cluster shard"
                ) from None
            self._tags = ["{" + f"{prefix}#{b}" + "}:" for b in range(buckets)]
        self._tag_set = frozenset(self._tags)
        self._sessions = self.tag + "s:"
        # SCAN patterns (glob): every bucket's tag, and nothing of another prefix.
        self._glob = self.tag if self.placement is None else "{" + prefix + "#*}:"

    def key_tag(self, key: str) -> str:
        placement = self.placement
        return self.tag if placement is None else self._tags[placement.of_key(key)]

    def text_tag(self, handle_or_user: str) -> str:
        placement = self.placement
        return self.tag if placement is None else self._tags[placement.of_text(handle_or_user)]

    def skey(self, key: str) -> str:
        if self.placement is None:  # every request names its session: keep this one concat
            return self._sessions + key
        return f"{self.key_tag(key)}s:{key}"

    def hkey(self, handle: str) -> str:
        return f"{self.text_tag(handle)}h:{handle}"

    def ukey(self, user_id: str) -> str:
        return f"{self.text_tag(user_id)}u:{user_id}"

    def pattern(self, kind: str) -> str:
        """A SCAN pattern for the store's keys of one kind (``s``, ``h`` or ``u``)."""
        return f"{self._glob}{kind}:*"

    def session_patterns(self) -> tuple[str, ...]:
        # Only session, handle and user-index keys: the audit streams ({prefix}:a:...) and the
        # guard's counters share the hash tag and must survive "revoke everyone".
        return (self.pattern("s"), self.pattern("h"), self.pattern("u"))

    def key_of(self, name: str) -> str | None:
        """The session key of a scanned session hash name, or None for another store's."""
        head, sep, key = name.partition("}:s:")  # a prefix has no braces: the first is ours
        return key if sep and head + "}:" in self._tag_set else None

    def by_tag(self, keys: list[str]) -> dict[str, list[str]]:
        """Session keys grouped by their tag (a script may touch one bucket only)."""
        groups: dict[str, list[str]] = {}
        for key in keys:
            groups.setdefault(self.key_tag(key), []).append(key)
        return groups

    def check_placed(self, record: SessionRecord, *others: str) -> None:
        """Refuse a record whose handle or user (or ``others``: keys and handles written in the
        same step) is in another bucket than its key: its keys could not change together."""
        placement = self.placement
        if placement is None:
            return
        bucket = placement.of_key(record.key)
        texts = [record.handle] + ([] if record.user_id is None else [record.user_id])
        if any(placement.of_text(t) != bucket for t in texts) or any(
            placement.of_key(o) != bucket for o in others
        ):
            raise ConfigurationError(
                f"a session whose keys are not in one bucket of {self.placement}: create "
                "sessions through SessionManager, which draws them in place (a wrapper around "
                "the store must pass on its .placement)"
            )

    def elsewhere(self, record: SessionRecord, replaces: str | None) -> str | None:
        """``replaces`` when it lives in another bucket than ``record`` (a login that leaves
        an anonymous session or another user's: two steps, see ``_create_plan``)."""
        if replaces is None or self.key_tag(replaces) == self.key_tag(record.key):
            return None
        return replaces

    def handle_call(self, handle: str) -> tuple[list[str], list[Any]]:
        return [self.hkey(handle)], [self.text_tag(handle)]

    def delete_call(self, key: str) -> tuple[list[str], list[Any]]:
        return [self.skey(key)], [self.key_tag(key), key]

    def user_call(self, user_id: str, *args: Any) -> tuple[list[str], list[Any]]:
        return [self.ukey(user_id)], [self.text_tag(user_id), *args]

    def create_call(
        self,
        record: SessionRecord,
        now: float,
        replaces: str | None,
        limit: SessionLimit | None,
    ) -> tuple[list[str], list[Any]]:
        self.check_placed(record)
        session = self.skey(record.key)
        keys = [
            session,
            self.hkey(record.handle),
            session if record.user_id is None else self.ukey(record.user_id),
            session if replaces is None else self.skey(replaces),
        ]
        args: list[Any] = [
            self.key_tag(record.key),
            record.key,
            record.handle,
            record.user_id or "",
            replaces or "",
            lua.number(now),
            0 if limit is None else limit.max_sessions,
            "evict_oldest" if limit is None else limit.policy,
            lua.expiry_ms(record.expires_at),
            lua.number(record.last_seen_at),
            *lua.encode_record(record),
        ]
        return keys, args

    def update_call(self, key: str, change: RecordUpdate) -> tuple[str, list[Any]]:
        return self.skey(key), [self.key_tag(key), *lua.encode_update(key, change)]

    def renew_call(
        self, key: str, new_key: str, stub: SessionRecord, handle: str
    ) -> tuple[list[str], list[Any]]:
        self.check_placed(stub, new_key)
        keys = [self.skey(key), self.skey(new_key), self.hkey(stub.handle)]
        args = [self.key_tag(key), key, new_key, handle, lua.expiry_ms(stub.expires_at)]
        return keys, args + lua.encode_record(stub)


class _translate:  # lower case: read as a function, ``with _translate():``
    """Map redis-py errors onto the store contract's exceptions.

    A class rather than ``@contextmanager``: it wraps every store call, and a generator-based
    context manager cost more than the rest of a ``get`` outside the I/O.
    """

    __slots__ = ("limit", "record")

    def __init__(
        self, record: SessionRecord | None = None, limit: SessionLimit | None = None
    ) -> None:
        self.record = record
        self.limit = limit

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, _: Any) -> None:
        if exc is None:
            return
        if isinstance(exc, redis.ResponseError):
            message = str(exc).removeprefix("ERR ")
            if message.startswith("SWEXISTS"):
                raise DuplicateKey("session key or handle already exists") from exc
            if message.startswith("SWLIMIT") and self.record is not None and self.limit is not None:
                raise SessionLimitExceeded(
                    self.record.user_id or "", self.limit.max_sessions
                ) from exc
            raise StoreUnavailable(f"Redis error: {exc}") from exc
        if isinstance(exc, redis.RedisError):
            raise StoreUnavailable(f"Redis unavailable: {exc}") from exc


def _client_options(socket_timeout: float, connect_timeout: float, retries: int) -> dict[str, Any]:
    if socket_timeout <= 0 or connect_timeout <= 0:
        raise ConfigurationError("Redis time-outs must be positive numbers of seconds")
    if retries < 0:
        raise ConfigurationError("retries must be >= 0")
    return {
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": connect_timeout,
        "retry": Retry(NoBackoff(), retries),
    }


def _connect(
    owner: str,
    client: Any,
    url: str | None,
    from_url: Callable[..., Any],
    socket_timeout: float,
    connect_timeout: float,
    retries: int,
) -> Any:
    """The injected client, or one for ``url`` with bounded waits (exactly one of the two)."""
    if (client is None) == (url is None):
        raise ConfigurationError(f"{owner} needs exactly one of client= or url=")
    options = _client_options(socket_timeout, connect_timeout, retries)
    return client if client is not None else from_url(url or "", **options)


def _register(client: Any) -> dict[str, Any]:
    return {name: client.register_script(getattr(lua, name)) for name in _SCRIPTS}


def _update_pipeline(
    client: Any, sha: str, session: str, args: list[Any], read: tuple[Any, ...]
) -> Any:
    """``UPDATE`` then the read-back (``_redis_lua.read_back``) in one MULTI: atomic, and the
    record comes back as plain RESP instead of through Lua (see ``_redis_lua.UPDATE``)."""
    pipe = client.pipeline(transaction=True)
    pipe.evalsha(sha, 1, session, *args)
    pipe.execute_command(*read)
    return pipe


def _fields_pipeline(client: Any, commands: list[tuple[Any, ...]]) -> Any:
    pipe = client.pipeline(transaction=True)
    for command in commands:
        pipe.execute_command(*command)
    return pipe


def _noscript(exc: redis.ResponseError) -> bool:
    """Redis lost its script cache (a restart, SCRIPT FLUSH): load the script, run again.

    Safe to repeat: a transaction whose script was missing wrote nothing.
    """
    return isinstance(exc, redis.exceptions.NoScriptError) or "NOSCRIPT" in str(exc)


_CLIENT = "client"  # a call for the Redis client itself, not one of the store's helpers


def _create_plan(
    layout: _Layout,
    record: SessionRecord,
    now: float,
    replaces: str | None,
    limit: SessionLimit | None,
) -> Flow[list[SessionRecord]]:
    """``create`` for both twins: one ``CREATE`` script, or, when ``replaces`` is in another
    bucket (buckets > 1), ``CREATE`` and then ``DELETE`` of the old session in its bucket.

    In that order a refused login (the limit's ``reject_new``) changes nothing, and a failure
    between the two steps leaves the old session as it was and raises, as a failed login does
    (the flows then delete the new session, which no client holds).
    """
    elsewhere = layout.elsewhere(record, replaces)
    keys, args = layout.create_call(record, now, None if elsewhere else replaces, limit)
    evicted = lua.decode_pairs((yield StoreCall("_script", ("CREATE", keys, args))))
    if elsewhere is not None:
        yield StoreCall("_script", ("DELETE", *layout.delete_call(elsewhere)))
    return evicted


def _update_plan(layout: _Layout, key: str, change: RecordUpdate) -> Flow[SessionRecord | None]:
    """``update`` for both twins, as calls: ``_fields`` / ``_update`` are each twin's own
    transaction senders, ``delete`` / ``script_load`` go to the Redis client."""
    session = layout.skey(key)
    commands = lua.field_commands(session, change)
    if commands is not None:
        raw = yield StoreCall("_fields", (commands,))
        record = lua.decode_reply(key, change, raw)
        if record is None and any(command[0] == "HSET" for command in commands):
            # A save after a delete wrote fields into a hash that is no session: remove them.
            yield StoreCall("delete", (session,), target=_CLIENT)
        return record
    _, args = layout.update_call(key, change)
    read = lua.read_back(session, change)
    try:
        replies = yield StoreCall("_update", (session, args, read))
    except redis.ResponseError as exc:
        if not _noscript(exc):
            raise
        yield StoreCall("script_load", (lua.UPDATE,), target=_CLIENT)
        replies = yield StoreCall("_update", (session, args, read))
    return lua.decode_reply(key, change, replies[1])


class RedisStore:
    """Sessions in Redis for synchronous apps.

    Pass ``client`` (a ``redis.Redis`` or ``redis.RedisCluster``) or ``url``. ``prefix``
    names the store's keys (and its cluster hash tag); give each app or test run its own.
    ``buckets`` (a power of two up to 1024, default 1) spreads the sessions over that many hash
    tags, so over a Redis Cluster's shards (docs/stores.md, "Redis Cluster").
    """

    def __init__(
        self,
        client: redis.Redis | redis.RedisCluster | None = None,
        *,
        url: str | None = None,
        prefix: str = "sessionward",
        buckets: int = 1,
        socket_timeout: float = 1.0,
        connect_timeout: float = 1.0,
        retries: int = 0,
    ) -> None:
        timeouts = (socket_timeout, connect_timeout, retries)
        self.client: redis.Redis | redis.RedisCluster = _connect(
            "RedisStore", client, url, redis.Redis.from_url, *timeouts
        )
        self._owns_client = client is None
        self._layout = _Layout(prefix, buckets)
        #: Where SessionManager draws new keys (``core.placement``); None with one bucket.
        self.placement = self._layout.placement
        self._scripts = _register(self.client)
        # The per-request commands skip redis-py's client layer (see _redis_direct) when the
        # store made the client itself; retries, clusters and injected clients keep it.
        self._direct: DirectCommands | None = None
        direct = DirectCommands is not None and client is None and retries == 0
        if direct and type(self.client) is redis.Redis:
            self._direct = DirectCommands(self.client)

    def __repr__(self) -> str:
        return f"RedisStore(prefix={self._layout.prefix!r})"

    def _script(self, name: str, keys: list[str], args: list[Any]) -> Any:
        if self._direct is not None:
            return self._direct.script(getattr(lua, name), keys, args)
        return self._scripts[name](keys=keys, args=args)

    def create(
        self,
        record: SessionRecord,
        *,
        now: float,
        replaces: str | None = None,
        limit: SessionLimit | None = None,
    ) -> list[SessionRecord]:
        with _translate(record, limit):
            return drive(_create_plan(self._layout, record, now, replaces, limit), self._perform)

    def get(self, key: str) -> SessionRecord | None:
        with _translate():
            if self._direct is not None:
                raw = self._direct.call("HGETALL", self._layout.skey(key))
            else:
                raw = self.client.hgetall(self._layout.skey(key))
        return lua.decode_record(key, raw)

    def get_by_handle(self, handle: str) -> SessionRecord | None:
        with _translate():
            found = self._script("GET_BY_HANDLE", *self._layout.handle_call(handle))
        return None if not found else lua.decode_record(lua.text(found[0]), found[1])

    def update(self, key: str, change: RecordUpdate) -> SessionRecord | None:
        with _translate():
            return drive(_update_plan(self._layout, key, change), self._perform)

    def _perform(self, call: StoreCall) -> Any:
        return getattr(self.client if call.target == _CLIENT else self, call.method)(*call.args)

    def _fields(self, commands: list[tuple[Any, ...]]) -> Any:
        if self._direct is not None:
            return self._direct.transaction(*commands)[-1]
        return _fields_pipeline(self.client, commands).execute()[-1]

    def _update(self, session: str, args: list[Any], read: tuple[Any, ...]) -> list[Any]:
        if isinstance(self.client, redis.RedisCluster):
            return [1, lua.as_read(read, self._script("UPDATE_READ", [session], args))]
        sha = self._scripts["UPDATE"].sha
        if self._direct is not None:
            return self._direct.transaction(("EVALSHA", sha, 1, session, *args), read)
        replies: list[Any] = _update_pipeline(self.client, sha, session, args, read).execute()
        return replies

    def delete(self, key: str) -> SessionRecord | None:
        with _translate():
            raw = self._script("DELETE", *self._layout.delete_call(key))
        return None if not raw else lua.decode_record(key, raw)

    def list_by_user(self, user_id: str) -> list[SessionRecord]:
        with _translate():
            raw = self._script("LIST_USER", *self._layout.user_call(user_id))
        return sorted(lua.decode_pairs(raw), key=lambda r: r.last_seen_at, reverse=True)

    def _session_keys(self) -> Iterator[list[str]]:
        """Batches of stored session keys (SCAN: admin operations only)."""
        batch: list[str] = []
        for name in self.client.scan_iter(match=self._layout.pattern("s"), count=_SCAN_BATCH):
            key = self._layout.key_of(lua.text(name))
            if key is not None:
                batch.append(key)
            if len(batch) >= _SCAN_BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    def list_all(self, *, limit: int = 1000) -> list[SessionRecord]:
        records: list[SessionRecord] = []
        with _translate():
            for batch in self._session_keys():
                pipe = self.client.pipeline(transaction=False)
                for key in batch:
                    pipe.hgetall(self._layout.skey(key))
                for key, raw in zip(batch, pipe.execute(), strict=True):
                    record = lua.decode_record(key, raw)
                    if record is not None:
                        records.append(record)
        return sorted(records, key=lambda r: r.last_seen_at, reverse=True)[:limit]

    def delete_by_user(self, user_id: str, *, keep: str | None = None) -> list[SessionRecord]:
        deleted: list[SessionRecord] = []
        with _translate():
            for _ in range(_MAX_BATCHES):  # a batch per script call: Redis never blocks long
                raw = self._script("DELETE_USER", *self._layout.user_call(user_id, keep or ""))
                remaining, records = lua.decode_batch(raw)
                deleted += records
                if remaining <= 0:
                    break
        return deleted

    def _delete_many(self, cutoff: str) -> int:
        count = 0
        with _translate():
            batches = list(self._session_keys())
            for batch in batches:
                for tag, keys in self._layout.by_tag(batch).items():
                    route = [self._layout.skey(keys[0])]
                    count += int(self._script("DELETE_MANY", route, [tag, cutoff, *keys]))
        return count

    def delete_all(self) -> int:
        count = self._delete_many("")
        with _translate():  # and any index or handle key left behind
            for pattern in self._layout.session_patterns():
                for name in self.client.scan_iter(match=pattern, count=_SCAN_BATCH):
                    self.client.unlink(name)
        return count

    def purge_expired(self, now: float) -> int:
        # Redis expires records by TTL on its own; this catches records whose deadline passed
        # by the app's clock before Redis's.
        return self._delete_many(lua.number(now))

    def renew(
        self, key: str, new_key: str, stub: SessionRecord, *, handle: str
    ) -> SessionRecord | None:
        keys, args = self._layout.renew_call(key, new_key, stub, handle)
        with _translate():
            raw = self._script("RENEW", keys, args)
        return None if not raw else lua.decode_record(new_key, raw)

    def close(self) -> None:
        if self._direct is not None:
            self._direct.close()
        if self._owns_client:
            self.client.close()


class AsyncRedisStore:
    """Sessions in Redis for async apps (``redis.asyncio``); see :class:`RedisStore`.

    Given a plain ``redis://`` ``url`` (and ``multiplex=True``, the default), the two commands
    each request makes go over one shared, pipelined connection (:mod:`._resp`) instead of
    redis-py's pool, which is where most of the per-request time went; admin operations stay
    on redis-py. An injected client is used for everything.
    """

    def __init__(
        self,
        client: aioredis.Redis | None = None,
        *,
        url: str | None = None,
        prefix: str = "sessionward",
        buckets: int = 1,
        socket_timeout: float = 1.0,
        connect_timeout: float = 1.0,
        retries: int = 0,
        multiplex: bool = True,
    ) -> None:
        timeouts = (socket_timeout, connect_timeout, retries)
        self.client: aioredis.Redis = _connect(
            "AsyncRedisStore", client, url, aioredis.Redis.from_url, *timeouts
        )
        self._owns_client = client is None
        self._layout = _Layout(prefix, buckets)
        #: Where SessionManager draws new keys (``core.placement``); None with one bucket.
        self.placement = self._layout.placement
        self._scripts = _register(self.client)
        self._fast: Multiplexer | None = None
        if multiplex and url is not None and url.startswith("redis://") and Multiplexer is not None:
            self._fast = Multiplexer(url, timeout=socket_timeout, connect_timeout=connect_timeout)

    def __repr__(self) -> str:
        return f"AsyncRedisStore(prefix={self._layout.prefix!r})"

    async def _script(self, name: str, keys: list[str], args: list[Any]) -> Any:
        if self._fast is not None:
            return await self._fast.script(getattr(lua, name), keys, args)
        return await self._scripts[name](keys=keys, args=args)

    async def create(
        self,
        record: SessionRecord,
        *,
        now: float,
        replaces: str | None = None,
        limit: SessionLimit | None = None,
    ) -> list[SessionRecord]:
        plan = _create_plan(self._layout, record, now, replaces, limit)
        with _translate(record, limit):
            return await drive_async(plan, self._perform)

    async def get(self, key: str) -> SessionRecord | None:
        with _translate():
            if self._fast is not None:
                raw = await self._fast.call("HGETALL", self._layout.skey(key))
            else:
                raw = await self.client.hgetall(self._layout.skey(key))
        return lua.decode_record(key, raw)

    async def get_by_handle(self, handle: str) -> SessionRecord | None:
        with _translate():
            found = await self._script("GET_BY_HANDLE", *self._layout.handle_call(handle))
        return None if not found else lua.decode_record(lua.text(found[0]), found[1])

    async def update(self, key: str, change: RecordUpdate) -> SessionRecord | None:
        with _translate():
            return await drive_async(_update_plan(self._layout, key, change), self._perform)

    async def _perform(self, call: StoreCall) -> Any:
        target = self.client if call.target == _CLIENT else self
        return await getattr(target, call.method)(*call.args)

    async def _fields(self, commands: list[tuple[Any, ...]]) -> Any:
        if self._fast is not None:
            return (await self._fast.transaction(*commands))[-1]
        return (await _fields_pipeline(self.client, commands).execute())[-1]

    async def _update(self, session: str, args: list[Any], read: tuple[Any, ...]) -> list[Any]:
        if self._fast is not None:
            sha = self._fast.sha(lua.UPDATE)
            return await self._fast.transaction(("EVALSHA", sha, 1, session, *args), read)
        if isinstance(self.client, aioredis.RedisCluster):
            whole = await self._script("UPDATE_READ", [session], args)
            return [1, lua.as_read(read, whole)]
        pipe = _update_pipeline(self.client, self._scripts["UPDATE"].sha, session, args, read)
        replies: list[Any] = await pipe.execute()
        return replies

    async def delete(self, key: str) -> SessionRecord | None:
        with _translate():
            raw = await self._script("DELETE", *self._layout.delete_call(key))
        return None if not raw else lua.decode_record(key, raw)

    async def list_by_user(self, user_id: str) -> list[SessionRecord]:
        with _translate():
            raw = await self._script("LIST_USER", *self._layout.user_call(user_id))
        return sorted(lua.decode_pairs(raw), key=lambda r: r.last_seen_at, reverse=True)

    async def _session_keys(self) -> list[list[str]]:
        pattern = self._layout.pattern("s")
        names = [
            key
            async for name in self.client.scan_iter(match=pattern, count=_SCAN_BATCH)
            if (key := self._layout.key_of(lua.text(name))) is not None
        ]
        return [names[i : i + _SCAN_BATCH] for i in range(0, len(names), _SCAN_BATCH)]

    async def list_all(self, *, limit: int = 1000) -> list[SessionRecord]:
        records: list[SessionRecord] = []
        with _translate():
            for batch in await self._session_keys():
                pipe = self.client.pipeline(transaction=False)
                for key in batch:
                    pipe.hgetall(self._layout.skey(key))
                for key, raw in zip(batch, await pipe.execute(), strict=True):
                    record = lua.decode_record(key, raw)
                    if record is not None:
                        records.append(record)
        return sorted(records, key=lambda r: r.last_seen_at, reverse=True)[:limit]

    async def delete_by_user(self, user_id: str, *, keep: str | None = None) -> list[SessionRecord]:
        deleted: list[SessionRecord] = []
        with _translate():
            for _ in range(_MAX_BATCHES):
                raw = await self._script(
                    "DELETE_USER", *self._layout.user_call(user_id, keep or "")
                )
                remaining, records = lua.decode_batch(raw)
                deleted += records
                if remaining <= 0:
                    break
        return deleted

    async def _delete_many(self, cutoff: str) -> int:
        count = 0
        with _translate():
            for batch in await self._session_keys():
                for tag, keys in self._layout.by_tag(batch).items():
                    route = [self._layout.skey(keys[0])]
                    count += int(await self._script("DELETE_MANY", route, [tag, cutoff, *keys]))
        return count

    async def delete_all(self) -> int:
        count = await self._delete_many("")
        with _translate():  # and any index or handle key left behind
            for pattern in self._layout.session_patterns():
                names = [n async for n in self.client.scan_iter(match=pattern)]
                for name in names:
                    await self.client.unlink(name)
        return count

    async def purge_expired(self, now: float) -> int:
        return await self._delete_many(lua.number(now))

    async def renew(
        self, key: str, new_key: str, stub: SessionRecord, *, handle: str
    ) -> SessionRecord | None:
        keys, args = self._layout.renew_call(key, new_key, stub, handle)
        with _translate():
            raw = await self._script("RENEW", keys, args)
        return None if not raw else lua.decode_record(new_key, raw)

    async def close(self) -> None:
        if self._fast is not None:
            self._fast.close()
        if self._owns_client:
            await self.client.aclose()
