"""redis-py connections used directly for the sync Redis store's per-request commands.

Why: under a WSGI server every request makes one ``HGETALL`` (load) and, when it writes, one
``MULTI`` ... ``EXEC`` (save). Through ``redis.Redis`` each costs the client command layer (pool
checkout and release, retry wrapper, event dispatch, observability hooks) and, per reply,
redis-py's reading layers; measured with callgrind, a save's round trip cost about twice its
instructions that way. So redis-py only *opens* the connection (TCP, TLS or a Unix socket, AUTH,
SELECT, HELLO, its time-outs, all from the URL), and the commands go over that socket directly:
packed by hiredis, read by a hiredis reader of our own that returns text (decoded in C; the
store writes nothing but UTF-8). Everything else stays on the client.

Thread safety (gthread workers): each call takes an idle connection from a free list (or opens
one) and puts it back only after its complete reply, so a connection is never shared by two
threads and never holds an unread answer. A connection that failed is discarded. After a fork
the parent's connections are dropped, never used by the child.
"""

from __future__ import annotations

import hashlib
import os
import select
import socket
from typing import Any

import hiredis
import redis
from redis.exceptions import NoScriptError

_MULTI, _EXEC = hiredis.pack_command(("MULTI",)), hiredis.pack_command(("EXEC",))
_READ_SIZE = 65536


def _reply_error(message: str) -> redis.ResponseError:
    """An error reply as redis-py's exception type (``NoScriptError`` for a lost script)."""
    if message.startswith("NOSCRIPT"):
        return NoScriptError(message)
    return redis.ResponseError(message)


class _Link:
    """One open connection: redis-py's (which opened it) and our reader of its socket."""

    __slots__ = ("buffer", "conn", "poller", "reader", "sock")

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        # The socket redis-py's own parser reads (its on_connect takes it the same way).
        self.sock: socket.socket = conn._sock
        self.reader = hiredis.Reader(encoding="utf-8", replyError=_reply_error)
        # Read into one buffer per connection (as redis-py does): a fresh 64 KiB bytes object
        # per reply cost more than parsing it.
        self.buffer = bytearray(_READ_SIZE)
        self.poller = select.poll()
        self.poller.register(self.sock, select.POLLIN)

    def stale(self) -> bool:
        """Readable while idle: Redis closed it (an idle time-out, a restart) or sent stray
        data. Either way it is not used again (redis-py's pool makes the same check)."""
        return bool(self.poller.poll(0))

    def exchange(self, data: bytes, count: int) -> list[Any]:
        """Send ``data`` (``count`` commands) and read their ``count`` replies."""
        sock, reader, buffer = self.sock, self.reader, self.buffer
        try:
            sock.sendall(data)
            replies: list[Any] = []
            while len(replies) < count:
                reply = reader.gets()
                if reply is False:
                    size = sock.recv_into(buffer)
                    if not size:
                        raise redis.ConnectionError("Redis closed the connection")
                    reader.feed(buffer, 0, size)  # type: ignore[arg-type]  # stubs: bytes only
                else:
                    replies.append(reply)
        except TimeoutError as exc:  # socket.timeout: the store's socket_timeout passed
            raise redis.TimeoutError(f"Redis did not answer in time: {exc}") from exc
        except OSError as exc:
            raise redis.ConnectionError(f"connection to Redis failed: {exc}") from exc
        except (hiredis.ProtocolError, UnicodeDecodeError) as exc:
            # Not UTF-8 (nothing the store wrote) or not RESP: the rest would pair wrongly.
            raise redis.ConnectionError(f"Redis protocol error: {exc}") from exc
        return replies


class DirectCommands:
    """Commands over connections made with the settings of ``client``'s pool."""

    def __init__(self, client: redis.Redis) -> None:
        self._kwargs = dict(client.connection_pool.connection_kwargs)
        self._class = client.connection_pool.connection_class
        self._idle: list[_Link] = []
        self._pid = os.getpid()
        self._shas: dict[str, str] = {}

    def _take(self) -> _Link:
        if self._pid != os.getpid():  # forked: the parent's sockets are not ours
            self._idle = []
            self._pid = os.getpid()
        try:
            link = self._idle.pop()
        except IndexError:
            return self._open()
        if link.stale():
            link.conn.disconnect()
            return self._open()
        return link

    def _open(self) -> _Link:
        conn = self._class(**self._kwargs)
        conn.connect()
        return _Link(conn)

    def _run(self, data: bytes, count: int) -> list[Any]:
        link = self._take()
        try:
            replies = link.exchange(data, count)
        except BaseException:
            link.conn.disconnect()  # time-out or lost connection: an answer may be in flight
            raise
        self._idle.append(link)  # every reply read: the connection is clean
        return replies

    def call(self, *args: Any) -> Any:
        reply = self._run(hiredis.pack_command(args), 1)[0]
        if isinstance(reply, redis.ResponseError):
            raise reply
        return reply

    def transaction(self, *commands: tuple[Any, ...]) -> list[Any]:
        """``commands`` between MULTI and EXEC, written at once; EXEC's replies.

        The first error reply among them is raised (as redis-py raises it: ``NoScriptError``
        for a lost script); every reply has been read by then, so the connection stays usable.
        """
        data = b"".join([_MULTI, *map(hiredis.pack_command, commands), _EXEC])
        replies = self._run(data, len(commands) + 2)
        result = replies[-1]
        for reply in (*replies[:-1], *(result or ())):
            if isinstance(reply, redis.ResponseError):
                raise reply
        if result is None:  # pragma: no cover - only after WATCH, which we never send
            raise redis.ResponseError("transaction aborted")
        return list(result)

    def script(self, source: str, keys: list[str], args: list[Any]) -> Any:
        sha = self._shas.get(source)
        if sha is None:
            sha = self._shas[source] = hashlib.sha1(
                source.encode(), usedforsecurity=False
            ).hexdigest()
        try:
            return self.call("EVALSHA", sha, len(keys), *keys, *args)
        except NoScriptError:
            # First use, or the server restarted and lost its script cache.
            return self.call("EVAL", source, len(keys), *keys, *args)

    def close(self) -> None:
        idle, self._idle = self._idle, []
        for link in idle:
            link.conn.disconnect()
