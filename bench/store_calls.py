"""Cost of the two store calls a read+write request makes (get, then update), per Redis client.

    .venv/bin/python bench/store_calls.py                       # every client, 3 rounds
    .venv/bin/python bench/store_calls.py --client multiplexed,redis-py-pool --rounds 5

32 concurrent tasks on one session of 33 keys, each doing get then update. Clients are run
interleaved (round 1 of each, then round 2...) and each reports its median round: pairs per
second, the CPU this process spends per pair (the app server's share of the store cost) and
the Redis server's CPU per pair (``INFO cpu``: the whole server's, so other clients of the same
Redis add noise). Every Redis client runs the store's own code (``AsyncRedisStore``); the ones
that are not sessionward's sit behind its per-request transport (``bench/redis_clients.py``).
Redis: ``BENCH_REDIS`` (default ``redis://127.0.0.1:6379/0``), keys under a random prefix,
deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

import redis
import redis.asyncio
import redis_clients

from sessionward import AsyncMemoryStore
from sessionward.core.session_tokens import new_handle, new_token, token_key
from sessionward.stores import RecordUpdate, SessionRecord
from sessionward.stores.redis import AsyncRedisStore

URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/0")
CONCURRENCY = 32


def _prefix() -> str:
    return "micro" + uuid.uuid4().hex[:6]


def _behind(transport: Any) -> Callable[[], AsyncRedisStore]:
    def make() -> AsyncRedisStore:
        store = AsyncRedisStore(url=URL, prefix=_prefix(), multiplex=False)
        store._fast = transport(URL)  # the store's per-request calls go through this client
        return store

    return make


# name -> a factory of one store, or of one store per task ("per-task" clients).
CLIENTS: dict[str, Callable[[], Any]] = {
    "memory": AsyncMemoryStore,
    "multiplexed": lambda: AsyncRedisStore(url=URL, prefix=_prefix()),
    "redis-py-pool": lambda: AsyncRedisStore(url=URL, prefix=_prefix(), multiplex=False),
    "redis-py-conn": lambda: None,  # built per task below: one connection each, no pool
    "coredis": _behind(redis_clients.Coredis),
    "glide": _behind(redis_clients.Glide),
}


def redis_cpu() -> float:
    with redis.Redis.from_url(URL) as client:
        info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


async def run(name: str, pairs: int) -> tuple[float, float, float]:
    now = time.time()
    record = SessionRecord(
        key=token_key(new_token()),
        handle=new_handle(),
        user_id="u",
        created_at=now,
        last_seen_at=now,
        expires_at=now + 1000,
        data={f"c{i}": i for i in range(32)} | {"user": "alice"},
    )
    prefix = _prefix()
    if name == "redis-py-conn":
        stores = [
            AsyncRedisStore(
                redis.asyncio.Redis.from_url(URL, single_connection_client=True), prefix=prefix
            )
            for _ in range(CONCURRENCY)
        ]
    else:
        stores = [CLIENTS[name]()] * CONCURRENCY
    await stores[0].create(record, now=now)
    for store in stores:  # connect and load scripts outside the timed part
        await store.update(record.key, RecordUpdate(set_data={"warm": 1}))

    async def worker(i: int) -> None:
        store = stores[i]
        for j in range(pairs // CONCURRENCY):
            await store.get(record.key)
            await store.update(record.key, RecordUpdate(set_data={f"c{i}": j}))

    try:
        server0 = redis_cpu()
        t0, c0 = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker(i) for i in range(CONCURRENCY)))
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        server = redis_cpu() - server0
    finally:
        await stores[0].delete_all()
        for store in dict.fromkeys(stores):
            aclose = getattr(getattr(store, "_fast", None), "aclose", None)
            if aclose is not None:
                await aclose()
            await store.close()
            if name == "redis-py-conn":
                await store.client.aclose()
    done = pairs // CONCURRENCY * CONCURRENCY
    per_pair = 1e6 / done
    return done / wall, cpu * per_pair, 0.0 if name == "memory" else server * per_pair


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--client", default=",".join(CLIENTS), help=", ".join(CLIENTS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=4000)
    args = parser.parse_args()
    names = args.client.split(",")
    results: dict[str, list[tuple[float, float, float]]] = {n: [] for n in names}
    for _ in range(args.rounds):
        for name in names:
            results[name].append(asyncio.run(run(name, args.pairs)))
    print("| client | get+update pairs/s | app CPU us/pair | Redis CPU us/pair |")
    print("|---|---:|---:|---:|")
    for name, rows in results.items():
        rate, app, server = (statistics.median(col) for col in zip(*rows, strict=True))
        redis_col = "-" if name == "memory" else f"{server:.0f}"
        print(f"| {name} | {rate:,.0f} | {app:.0f} | {redis_col} |")


if __name__ == "__main__":
    main()
