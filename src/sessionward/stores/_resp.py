"""A lean, multiplexed RESP connection for the async Redis store's per-request commands.

Why: profiling put most of the per-request cost of a Redis-backed session in redis-py's asyncio
client (connection-pool checkout, command packing, response parsing layers), not in Redis or in
sessionward. The calls every request makes (``HGETALL`` on load; on save one ``EVALSHA``
and an ``HGETALL`` in ``MULTI``) go instead over one connection shared by all requests of the
process: commands are written as they come, Redis answers in order, and each answer resolves
the oldest waiting future. Parsing is hiredis's. Everything else (SCAN, pipelines, admin work)
stays on redis-py.

Failure rules keep the in-order pairing sound: a time-out or a lost connection closes the
connection and fails every command waiting on it; the next command opens a new connection.
Errors are raised as redis-py's exception types so one translation layer serves both paths.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import deque
from typing import Any
from urllib.parse import unquote, urlsplit

import hiredis
import redis


def _pack(args: tuple[Any, ...]) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    append = parts.append
    for arg in args:
        kind = type(arg)  # exact types first: this runs for every argument of every command
        if kind is str:
            data = arg.encode()
        elif kind is bytes:
            data = arg
        elif isinstance(arg, bytes | bytearray | memoryview):
            data = bytes(arg)
        elif isinstance(arg, str):
            data = str.encode(arg)
        else:
            data = str(arg).encode("ascii")
        append(b"$%d\r\n" % len(data))
        append(data)
        append(b"\r\n")
    return b"".join(parts)


_MULTI, _EXEC = _pack(("MULTI",)), _pack(("EXEC",))


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        # Text straight from hiredis (C): the store writes nothing but UTF-8, and a load
        # decodes ~80 strings of a 33-key session.
        self.reader = hiredis.Reader(encoding="utf-8")
        # (future, deadline, replies expected) in the order the commands were written: one
        # future per batch of commands (a MULTI...EXEC is four), resolved by its last reply.
        self.waiters: deque[tuple[asyncio.Future[Any], float, int]] = deque()
        self.partial: list[Any] = []  # replies already in for the oldest batch
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._timer: asyncio.TimerHandle | None = None
        # Commands written during one pass of the event loop, sent together at its end.
        self.outgoing: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # TCP: always a Transport

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while True:
            try:
                reply = self.reader.gets()
            except (hiredis.ProtocolError, UnicodeDecodeError) as exc:
                # Not UTF-8: nothing the store wrote. Fail the connection rather than pair the
                # rest of a batch with the wrong command.
                self.fail(redis.ConnectionError(f"Redis protocol error: {exc}"))
                return
            if reply is False:
                return
            waiter, _, expected = self.waiters[0]
            if expected > 1:
                self.partial.append(reply)
                if len(self.partial) < expected:
                    continue
                reply, self.partial = self.partial, []
            self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail(redis.ConnectionError(f"connection to Redis lost: {exc or 'closed'}"))

    def queue(self, data: bytes, loop: asyncio.AbstractEventLoop) -> None:
        """Send ``data``: at once when nothing else is in flight, else with every other
        command written in this pass of the event loop.

        Under concurrency a session request's command rarely travels alone: sent as one
        write, Redis reads them with one system call and answers with one, and the system
        calls are most of its CPU per command on small hashes (docs/benchmarks.md, "Redis hot
        path"). A lone command (one connection, a quiet app) waits for nothing.
        """
        if self.outgoing:
            self.outgoing.append(data)
        elif len(self.waiters) == 1 and self.transport is not None:  # only this command
            self.transport.write(data)
        else:
            self.outgoing.append(data)
            loop.call_soon(self.flush)

    def flush(self) -> None:
        data, self.outgoing = self.outgoing, []
        if data and self.transport is not None and not self.closed:
            self.transport.write(data[0] if len(data) == 1 else b"".join(data))

    def fail(self, error: Exception) -> None:
        self.closed = True
        self.outgoing = []
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.partial = []
        while self.waiters:
            waiter, _, _ = self.waiters.popleft()
            if not waiter.done():
                waiter.set_exception(error)
        if self.transport is not None:
            self.transport.close()

    def watch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Fail the connection when the oldest command outlives its deadline.

        One timer per connection rather than one per command (``asyncio.timeout`` cost more
        than the rest of a call). A late answer would pair with the wrong command, so a
        time-out closes the connection and fails everything waiting on it.
        """
        if self._timer is not None or not self.waiters:
            return
        self._timer = loop.call_at(self.waiters[0][1], self._check, loop)

    def _check(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        if self.waiters and self.waiters[0][1] <= loop.time():
            self.fail(redis.TimeoutError("Redis did not answer in time"))
        else:
            self.watch(loop)


class Multiplexer:
    """One shared connection to a ``redis://`` server (no TLS; AUTH and db supported)."""

    def __init__(self, url: str, *, timeout: float, connect_timeout: float) -> None:
        parts = urlsplit(url)
        if parts.scheme != "redis":
            raise ValueError("the fast path speaks plain redis:// only")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 6379
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        path = parts.path.lstrip("/")
        self.db = int(path) if path else 0
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._conn: _Protocol | None = None
        self._connecting: asyncio.Lock | None = None
        self._shas: dict[str, str] = {}

    async def _connection(self) -> _Protocol:
        conn = self._conn
        if conn is not None and not conn.closed:
            return conn
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._conn is not None and not self._conn.closed:
                return self._conn
            loop = asyncio.get_running_loop()
            try:
                async with asyncio.timeout(self.connect_timeout):
                    _, conn = await loop.create_connection(_Protocol, self.host, self.port)
            except (OSError, TimeoutError) as exc:
                raise redis.ConnectionError(f"cannot connect to Redis: {exc!r}") from exc
            try:
                if self.password is not None:
                    auth = (self.username, self.password) if self.username else (self.password,)
                    await self._send(conn, ("AUTH", *auth))
                if self.db:
                    await self._send(conn, ("SELECT", self.db))
            except redis.RedisError:
                conn.fail(redis.ConnectionError("Redis connection set-up failed"))
                raise
            self._conn = conn
            return conn

    async def _send(self, conn: _Protocol, args: tuple[Any, ...]) -> Any:
        reply = await self._write(conn, _pack(args), 1)
        if isinstance(reply, hiredis.ReplyError):
            raise redis.ResponseError(str(reply))
        return reply

    async def _write(self, conn: _Protocol, data: bytes, expected: int) -> Any:
        """Send ``data`` (``expected`` commands); their reply, or a list of them if several."""
        if conn.transport is None or conn.closed:
            raise redis.ConnectionError("connection to Redis closed")
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Any] = loop.create_future()
        conn.waiters.append((waiter, loop.time() + self.timeout, expected))
        conn.queue(data, loop)
        conn.watch(loop)
        return await waiter

    async def call(self, *args: Any) -> Any:
        return await self._send(await self._connection(), args)

    async def transaction(self, *commands: tuple[Any, ...]) -> list[Any]:
        """``commands`` between MULTI and EXEC, written at once: Redis runs them as one step.

        Returns EXEC's replies; the first error among them is raised as ``ResponseError``.
        """
        conn = await self._connection()
        data = b"".join([_MULTI, *(_pack(args) for args in commands), _EXEC])
        replies: list[Any] = await self._write(conn, data, len(commands) + 2)
        for reply in (*replies[:-1], *(replies[-1] or ())):
            if isinstance(reply, hiredis.ReplyError):
                raise redis.ResponseError(str(reply))
        if replies[-1] is None:  # pragma: no cover - only after WATCH, which we never send
            raise redis.ResponseError("transaction aborted")
        return list(replies[-1])

    def sha(self, source: str) -> str:
        sha = self._shas.get(source)
        if sha is None:
            sha = self._shas[source] = hashlib.sha1(
                source.encode(), usedforsecurity=False
            ).hexdigest()
        return sha

    async def script(self, source: str, keys: list[str], args: list[Any]) -> Any:
        try:
            return await self.call("EVALSHA", self.sha(source), len(keys), *keys, *args)
        except redis.ResponseError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
        # First use, or the server restarted and lost its script cache.
        return await self.call("EVAL", source, len(keys), *keys, *args)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.fail(redis.ConnectionError("closed"))
            self._conn = None
