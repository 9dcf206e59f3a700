"""Client-side cost of the two store calls a read+write request makes (get, then update).

    .venv/bin/python bench/store_calls.py

32 concurrent tasks on one session of 33 keys; reports calls per second and the CPU this
process spends per get+update pair (the app server's share of the store cost).
"""

import asyncio
import time
import uuid

from sessionward import AsyncMemoryStore
from sessionward.core.session_tokens import new_handle, new_token, token_key
from sessionward.stores import RecordUpdate, SessionRecord
from sessionward.stores.redis import AsyncRedisStore


async def run(store, label, n=4000, conc=32):
    now = time.time()
    r = SessionRecord(
        key=token_key(new_token()),
        handle=new_handle(),
        user_id="u",
        created_at=now,
        last_seen_at=now,
        expires_at=now + 1000,
        data={f"c{i}": i for i in range(32)} | {"user": "alice"},
    )
    await store.create(r, now=now)

    async def worker(i):
        for j in range(n // conc):
            await store.get(r.key)
            await store.update(r.key, RecordUpdate(set_data={f"c{i}": j}))

    try:
        t0 = time.perf_counter()
        c0 = time.process_time()
        await asyncio.gather(*(worker(i) for i in range(conc)))
        wall = time.perf_counter() - t0
        cpu = time.process_time() - c0
    finally:
        await store.delete_all()
        await store.close()
    print(f"{label}: {n / wall:,.0f} get+update/s, client CPU {cpu / n * 1e6:.0f} us per pair")


async def main():
    await run(AsyncMemoryStore(), "memory")
    await run(
        AsyncRedisStore(url="redis://127.0.0.1:6379/0", prefix="micro" + uuid.uuid4().hex[:6]),
        "redis multiplexed",
    )
    await run(
        AsyncRedisStore(
            url="redis://127.0.0.1:6379/0", prefix="micro" + uuid.uuid4().hex[:6], multiplex=False
        ),
        "redis-py pool",
    )


asyncio.run(main())
