"""Redis server CPU per command, for the ways a session can be read and saved.

    .venv/bin/python bench/redis_commands.py

One raw connection sends each variant 4,000 times in pipelined batches of 200 (so the
client's speed does not matter) against one session of 33 keys; the Redis server's CPU
(``INFO cpu``) over each batch run, less the CPU it used meanwhile for other clients (an idle
interval measured in the same round), divided by the count. Variants are interleaved over 5
rounds; medians shown. ``BENCH_REDIS`` as in bench/run.py; the keys are deleted afterwards.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import statistics
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import hiredis
import redis

from sessionward.core.session_tokens import new_handle, new_token, token_key
from sessionward.stores import RecordUpdate, SessionRecord
from sessionward.stores import _redis_lua as lua
from sessionward.stores._resp import _pack
from sessionward.stores.redis import RedisStore

URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/0")
COUNT, BATCH = 4000, 200


def redis_cpu(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def main() -> None:
    store = RedisStore(url=URL, prefix="cmd" + uuid.uuid4().hex[:6])
    client = store.client
    now = time.time()
    data = {f"c{i}": i * 100 for i in range(32)} | {"user": "alice"}
    record = SessionRecord(
        key=token_key(new_token()),
        handle=new_handle(),
        user_id=None,
        created_at=now,
        last_seen_at=now,
        expires_at=now + 3600,
        data=data,
    )
    store.create(record, now=now)
    change = RecordUpdate(set_data={"c3": 7})
    session, args = store._layout.update_call(record.key, change)
    blob = store._layout.tag + "star"  # a starsessions-style record: one JSON string
    client.set(blob, json.dumps(data), ex=3600)
    read_sha = client.script_load(lua.UPDATE_READ)
    update_sha = client.script_load(lua.UPDATE)
    touch = RecordUpdate(set_data={"c3": 7}, last_seen_at=now + 1, expires_at=now + 3600)
    _, touch_args = store._layout.update_call(record.key, touch)
    variants: dict[str, list[tuple[Any, ...]]] = {
        "read: HGETALL (sessionward)": [("HGETALL", session)],
        "read: GET one JSON string (starsessions)": [("GET", blob)],
        "save: EVALSHA, script returns HGETALL (before)": [
            ("EVALSHA", read_sha, 1, session, *args)
        ],
        "save with touch: MULTI EVALSHA UPDATE, HGETALL": [
            ("MULTI",),
            ("EVALSHA", update_sha, 1, session, *touch_args),
            ("HGETALL", session),
            ("EXEC",),
        ],
        "save: MULTI HSET, PEXPIRE NX, HGETALL": [
            ("MULTI",),
            *(lua.field_commands(session, change) or []),
            ("EXEC",),
        ],
        "save: MULTI HSET, PEXPIRE NX, HMGET no data (the commit's save now)": [
            ("MULTI",),
            *(lua.field_commands(session, dataclasses.replace(change, reply_data=False)) or []),
            ("EXEC",),
        ],
        "save: SET one JSON string (starsessions)": [("SET", blob, json.dumps(data), "EX", 3600)],
    }
    parts = urlsplit(URL)
    sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379))
    sock.sendall(_pack(("SELECT", int(parts.path.lstrip("/") or 0))))
    sock.recv(64)

    def run(commands: list[tuple[Any, ...]]) -> tuple[float, float]:
        payload = b"".join(_pack(c) for c in commands) * BATCH
        expected = len(commands) * BATCH
        start, t0 = redis_cpu(client), time.perf_counter()
        for _ in range(COUNT // BATCH):
            sock.sendall(payload)
            reader, got = hiredis.Reader(), 0
            while got < expected:
                reader.feed(sock.recv(1 << 20))
                while reader.gets() is not False:
                    got += 1
        return redis_cpu(client) - start, time.perf_counter() - t0

    results: dict[str, list[float]] = {name: [] for name in variants}
    try:
        for _ in range(5):
            idle_start = redis_cpu(client)
            time.sleep(0.5)
            background = (redis_cpu(client) - idle_start) / 0.5  # other clients' CPU per second
            for name, commands in variants.items():
                used, wall = run(commands)
                results[name].append(max(0.0, used - background * wall) / COUNT * 1e6)
    finally:
        store.delete_all()
        client.delete(blob)
        store.close()
        sock.close()
    print("| command(s) | Redis CPU us each |")
    print("|---|---:|")
    for name, values in results.items():
        print(f"| {name} | {statistics.median(values):.1f} |")


if __name__ == "__main__":
    main()
