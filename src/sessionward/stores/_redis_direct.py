"""redis-py connections used directly for the sync Redis store's per-request commands.

Why: under a WSGI server every request makes one ``HGETALL`` (load) and, when it writes, one
``EVALSHA`` (save). Measured with a 5-field hash on this machine, a pair cost ~240 us of app CPU
through ``redis.Redis`` (client command layer: pool checkout and release, retry wrapper, event
dispatch, observability hooks) against ~120 us sent on the same redis-py ``Connection``
directly: the library still packs, parses (hiredis), authenticates, selects the database and
applies the time-outs; only the client layer is skipped. Everything else stays on the client.

Thread safety (gthread workers): each call takes an idle connection from a free list (or opens
one) and puts it back only after a complete reply, so a connection is never shared by two
threads and never holds an unread answer. A connection that failed is discarded. After a fork
the parent's connections are dropped, never used by the child.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

import redis
from redis.exceptions import NoScriptError


class DirectCommands:
    """Commands over connections made with the settings of ``client``'s pool."""

    def __init__(self, client: redis.Redis) -> None:
        self._kwargs = dict(client.connection_pool.connection_kwargs)
        self._class = client.connection_pool.connection_class
        self._idle: list[Any] = []
        self._pid = os.getpid()
        self._shas: dict[str, str] = {}

    def _take(self) -> Any:
        if self._pid != os.getpid():  # forked: the parent's sockets are not ours
            self._idle = []
            self._pid = os.getpid()
        try:
            conn = self._idle.pop()
        except IndexError:
            conn = self._class(**self._kwargs)
        conn.connect()  # a no-op when connected
        try:
            # As redis-py's pool does: a connection Redis closed (or with stray data) is
            # reopened before use, so an idle time-out on the server does not fail a request.
            if conn.can_read():
                raise redis.ConnectionError("connection has data")
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            conn.disconnect()
            conn.connect()
        return conn

    def call(self, *args: Any) -> Any:
        conn = self._take()
        try:
            conn.send_command(*args)
            reply = conn.read_response()
        except redis.ResponseError:
            self._idle.append(conn)  # a complete error reply: the connection is fine
            raise
        except BaseException:
            conn.disconnect()  # time-out or lost connection: an answer may still be in flight
            raise
        self._idle.append(conn)
        return reply

    def transaction(self, *commands: tuple[Any, ...]) -> list[Any]:
        """``commands`` between MULTI and EXEC, written at once; EXEC's replies.

        The first error reply among them is raised (as redis-py raises it: ``NoScriptError``
        for a lost script). Any failure mid-way discards the connection, which may still hold
        replies of this transaction.
        """
        conn = self._take()
        try:
            conn.send_packed_command(conn.pack_commands([("MULTI",), *commands, ("EXEC",)]))
            for _ in range(len(commands) + 1):
                conn.read_response()  # +OK, then +QUEUED per command (an error raises)
            replies = conn.read_response()
        except BaseException:
            conn.disconnect()
            raise
        self._idle.append(conn)
        if replies is None:  # pragma: no cover - only after WATCH, which we never send
            raise redis.ResponseError("transaction aborted")
        for reply in replies:
            if isinstance(reply, redis.ResponseError):
                raise reply
        return list(replies)

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
        for conn in idle:
            conn.disconnect()
