"""Other Redis clients behind the async store's per-request calls, for bench/store_calls.py.

``AsyncRedisStore`` sends its per-request commands through a small transport: ``call`` (the
``HGETALL`` of a load), ``transaction`` (the save: ``EVALSHA`` then ``HGETALL`` in MULTI),
``script`` and ``sha``. Its own is :class:`sessionward.stores._resp.Multiplexer`; each class
here does the same with a well-kept client, so the comparison runs the store's real code.
Bench-only: nothing in ``src/`` imports this.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit


def _sha(source: str) -> str:
    return hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()


class RedisPyPipeline:
    """redis-py 8 asyncio (hiredis parser), pooled, the save as one MULTI pipeline."""

    def __init__(self, url: str, *, single_connection: bool = False) -> None:
        import redis.asyncio

        self.client = redis.asyncio.Redis.from_url(url, single_connection_client=single_connection)

    def sha(self, source: str) -> str:
        return _sha(source)

    async def call(self, *args: Any) -> Any:
        return await self.client.execute_command(*args)

    async def transaction(self, *commands: tuple[Any, ...]) -> list[Any]:
        pipe = self.client.pipeline(transaction=True)
        for command in commands:
            pipe.execute_command(*command)
        replies: list[Any] = await pipe.execute()
        return replies

    async def script(self, source: str, keys: list[str], args: list[Any]) -> Any:
        return await self.client.eval(source, len(keys), *keys, *args)

    def close(self) -> None:
        pass  # the store closes its redis-py client; this one is dropped with the loop


class Coredis:
    """coredis 6 (anyio, its own RESP3 parser), pooled."""

    def __init__(self, url: str) -> None:
        import coredis

        self.client = coredis.Redis.from_url(url)
        self._entered = False

    async def _ready(self) -> Any:
        if not self._entered:
            await self.client.__aenter__()
            self._entered = True
        return self.client

    def sha(self, source: str) -> str:
        return _sha(source)

    async def call(self, *args: Any) -> Any:
        client = await self._ready()
        assert args[0] == "HGETALL"
        return await client.hgetall(args[1])

    async def transaction(self, *commands: tuple[Any, ...]) -> list[Any]:
        client = await self._ready()
        async with client.pipeline(transaction=True) as pipe:
            pending = [self._queue(pipe, *command) for command in commands]
        return [await reply for reply in pending]

    @staticmethod
    def _queue(pipe: Any, name: str, key: str, *rest: Any) -> Any:
        """coredis has no raw command call: each command the store sends, by its method."""
        from coredis.tokens import PureToken

        if name == "EVALSHA":
            sha, _numkeys, (session, *args) = key, rest[0], rest[1:]
            return pipe.evalsha(sha, keys=[session], args=args)
        if name == "HSET":
            return pipe.hset(key, dict(zip(rest[::2], rest[1::2], strict=True)))
        if name == "HDEL":
            return pipe.hdel(key, list(rest))
        if name == "PEXPIRE":
            return pipe.pexpire(key, int(rest[0]), condition=PureToken.NX)
        assert name == "HGETALL"
        return pipe.hgetall(key)

    async def script(self, source: str, keys: list[str], args: list[Any]) -> Any:
        client = await self._ready()
        return await client.eval(source, keys=keys, args=args)

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        if self._entered:
            await self.client.__aexit__(None, None, None)


class Glide:
    """valkey-glide 2 (Rust core, one multiplexed connection), ``custom_command``/``Batch``."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 6379
        self.db = int(parts.path.lstrip("/") or 0)
        self.client: Any = None

    async def _ready(self) -> Any:
        if self.client is None:
            from glide import GlideClient, GlideClientConfiguration, NodeAddress

            config = GlideClientConfiguration(
                [NodeAddress(self.host, self.port)], database_id=self.db
            )
            self.client = await GlideClient.create(config)
        return self.client

    def sha(self, source: str) -> str:
        return _sha(source)

    async def call(self, *args: Any) -> Any:
        return await (await self._ready()).custom_command([str(a) for a in args])

    async def transaction(self, *commands: tuple[Any, ...]) -> list[Any]:
        from glide import Batch

        batch = Batch(is_atomic=True)
        for command in commands:
            batch.custom_command([str(a) for a in command])
        replies: list[Any] = await (await self._ready()).exec(batch, raise_on_error=True)
        return replies

    async def script(self, source: str, keys: list[str], args: list[Any]) -> Any:
        return await self.call("EVAL", source, len(keys), *keys, *args)

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        if self.client is not None:
            await self.client.close()
