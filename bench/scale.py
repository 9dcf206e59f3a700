"""Per-request store cost against the number of stored sessions, and bytes per stored session.

    .venv/bin/python bench/scale.py                          # 10k and 100k sessions, ~1.5 min
    .venv/bin/python bench/scale.py --max-sessions 1000000   # 10k, 100k, 1M: ~8 min here

A "request" here is what a read+write request asks of its store: ``get`` then ``update`` (one
data key set) of a session picked at random from the whole population, one at a time, timed
in this process. *Listing* is ``list_by_user`` of a user holding 1,000 sessions.

* Redis (``--redis-url``, default DB 12, which is FLUSHDB'ed before and after): the population
  is written by the store's own ``CREATE`` script, pipelined 1,000 at a time. Each round grows
  one population through every level (10k, 100k, ... ``--max-sessions``) and measures at each;
  the next round starts again from an empty DB.
* SQLite: one file per level under a temp dir in /tmp, filled by bulk ``INSERT`` in the
  store's own row format; measurements rotate over the files, round by round.
* PostgreSQL (``--postgres``, schema ``scale_h2``, dropped at the end): only bytes per
  session (``pg_total_relation_size`` of the table with its indexes), filled by ``COPY``.

Each cell reports its median round. Nothing here is a test; no speed is asserted anywhere.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import sqlite3
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sessionward import AsyncSQLiteStore
from sessionward.stores import RecordUpdate, SessionRecord
from sessionward.stores.base import record_row

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- scale:start -->", "<!-- scale:end -->"
HEAVY = "heavy-user"  # holds LIST_SIZE of the sessions
LIST_SIZE = 1000
UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
T0 = time.time()


def key_of(i: int) -> str:
    return hashlib.sha256(b"scale-%d" % i).hexdigest()


def plain_of(i: int) -> tuple[Any, ...]:
    """Session ``i`` as column values (``RECORD_COLUMNS`` order; data and meta as dicts).

    The first LIST_SIZE sessions belong to HEAVY; of the others, 4 in 5 are logged in (three
    sessions per user). Built without ``SessionRecord``'s checks: a million of them must be
    cheap; ``check_encoders`` proves the bulk forms equal what the stores write.
    """
    user = HEAVY if i < LIST_SIZE else (None if i % 5 == 0 else f"user{i // 3}")
    seen = T0 - (i % 3600)
    data: dict[str, Any] = {"n": i, "theme": "dark"}
    if user is not None:
        data |= {"user": user, "roles": ["reader"]}
    return (
        key_of(i),
        hashlib.sha256(b"handle-%d" % i).hexdigest()[:22],
        user,
        seen - 60,
        seen,
        T0 + 86_400,
        None if user is None else seen - 60,
        "new" if user is None else "login",
        f"203.0.{i % 256}.{i // 256 % 256}",
        UA,
        data,
        {"csrf": hashlib.sha256(b"csrf-%d" % i).hexdigest()[:43]},
    )


def record_of(i: int) -> SessionRecord:
    names = ("key", "handle", "user_id", "created_at", "last_seen_at", "expires_at")
    names += ("authenticated_at", "origin", "ip", "user_agent", "data", "meta")
    return SessionRecord(**dict(zip(names, plain_of(i), strict=True)))


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def sqlite_row(p: tuple[Any, ...]) -> tuple[Any, ...]:
    return (*p[:10], compact(p[10]), compact(p[11]))


def postgres_row(p: tuple[Any, ...]) -> tuple[Any, ...]:
    return (*p[:10], compact({k: compact(v) for k, v in p[10].items()}), compact(p[11]))


def redis_fields(p: tuple[Any, ...]) -> list[str]:
    fields = ["h", p[1], "c", repr(p[3]), "ls", repr(p[4]), "ex", repr(p[5]), "o", p[7]]
    if p[2] is not None:
        fields += ["u", p[2], "a", repr(p[6])]
    fields += ["ip", p[8], "ua", p[9]]
    for name, value in p[10].items():
        fields += ["d:" + name, compact(value)]
    return [*fields, "m:csrf", compact(p[11]["csrf"])]


def check_encoders() -> None:
    """The bulk writers must store exactly what the stores' own encoders would."""
    from sessionward.stores import _redis_lua as lua
    from sessionward.stores.pg_plans import _data_json, _json
    from sessionward.stores.sqlite import _record_to_row

    for i in (0, LIST_SIZE, LIST_SIZE + 5, 999_999):
        p, r = plain_of(i), record_of(i)
        same = redis_fields(p) == lua.encode_record(r)
        same &= sqlite_row(p) == _record_to_row(r)
        same &= postgres_row(p) == record_row(r, _data_json, _json)
        if not same:
            raise SystemExit(f"bulk encoding of session {i} differs from the store's")


@dataclass
class Cell:
    store: str
    sessions: int
    pair_us: list[float] = field(default_factory=list)  # median get+update per round
    p99_us: list[float] = field(default_factory=list)
    get_us: list[float] = field(default_factory=list)
    list_ms: list[float] = field(default_factory=list)
    bytes_per_session: float | None = None
    note: str = ""


async def measure(store: Any, cell: Cell, population: int, samples: int) -> None:
    rng = random.Random(population * 7 + len(cell.pair_us))
    pairs: list[float] = []
    gets: list[float] = []
    for j in range(samples):
        key = key_of(rng.randrange(population))
        t0 = time.perf_counter_ns()
        record = await store.get(key)
        t1 = time.perf_counter_ns()
        await store.update(key, RecordUpdate(set_data={"n": j}))
        t2 = time.perf_counter_ns()
        if record is None:
            raise SystemExit(f"{cell.store}: session missing at {population}")
        gets.append((t1 - t0) / 1000)
        pairs.append((t2 - t0) / 1000)
    lists: list[float] = []
    for _ in range(max(3, samples // 200)):
        t0 = time.perf_counter_ns()
        listed = await store.list_by_user(HEAVY)
        lists.append((time.perf_counter_ns() - t0) / 1e6)
        if len(listed) != LIST_SIZE:
            raise SystemExit(f"{cell.store}: listed {len(listed)} sessions, not {LIST_SIZE}")
    pairs.sort()
    cell.pair_us.append(statistics.median(pairs))
    cell.p99_us.append(pairs[int(len(pairs) * 0.99)])
    cell.get_us.append(statistics.median(gets))
    cell.list_ms.append(statistics.median(lists))


# -- Redis ----------------------------------------------------------------------------------


def resp(*args: str) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg.encode()
        parts += (b"$%d\r\n" % len(data), data, b"\r\n")
    return b"".join(parts)


def redis_fill(url: str, layout: Any, start: int, stop: int) -> None:
    """Sessions ``start..stop`` in the store's key layout (what CREATE writes), mass-inserted
    with ``redis-cli --pipe``: hash + TTL, handle key, user index member + its TTL."""
    from sessionward.stores import _redis_lua as lua

    where = urlsplit(url)
    target = ["-h", where.hostname or "127.0.0.1", "-p", str(where.port or 6379)]
    target += ["-n", where.path.strip("/") or "0"]
    cli = subprocess.Popen(
        ["redis-cli", *target, "--pipe"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL
    )
    assert cli.stdin is not None
    for first in range(start, stop, 10_000):
        out = []
        for i in range(first, min(first + 10_000, stop)):
            p = plain_of(i)
            ms = str(lua.expiry_ms(p[5]))
            skey = layout.skey(p[0])
            out.append(resp("HSET", skey, *redis_fields(p)))
            out.append(resp("PEXPIREAT", skey, ms))
            out.append(resp("SET", layout.hkey(p[1]), p[0], "PXAT", ms))
            if p[2] is not None:
                out.append(resp("ZADD", layout.ukey(p[2]), ms, p[0]))
                out.append(resp("PEXPIREAT", layout.ukey(p[2]), ms))
        cli.stdin.write(b"".join(out))
    cli.stdin.close()
    if cli.wait(timeout=600) != 0:
        raise SystemExit("redis-cli --pipe failed")


def redis_memory(client: Any) -> int:
    return int(client.info("memory")["used_memory"])


def redis_sampled_bytes(store: Any, population: int) -> float:
    """MEMORY USAGE of sampled sessions' hash + handle key, plus the user indexes' share."""
    client, layout = store.client, store._layout
    rng = random.Random(1)
    picks = [rng.randrange(LIST_SIZE, population) for _ in range(200)]
    own = 0
    for i in picks:
        own += client.memory_usage(layout.skey(key_of(i)), samples=0) or 0
        own += client.memory_usage(layout.hkey(plain_of(i)[1]), samples=0) or 0
    users = {plain_of(i)[2] for i in picks} - {None}
    index = sum(client.memory_usage(layout.ukey(u), samples=0) or 0 for u in users)
    members = sum(client.zcard(layout.ukey(u)) for u in users)
    logged_in = sum(plain_of(i)[2] is not None for i in picks)
    return own / len(picks) + (index / members) * logged_in / len(picks)


async def redis_rounds(url: str, levels: list[int], rounds: int, samples: int) -> list[Cell]:
    """Grow one population through the levels, measuring ``rounds`` times at each; then
    empty the DB, refill the smallest level and measure it again (A, B, C, A): a drift of the
    machine's load over the run shows up as a difference between the two visits of A."""
    import redis

    from sessionward.stores.redis import AsyncRedisStore, RedisStore

    sync = RedisStore(redis.Redis.from_url(url, socket_timeout=30), prefix="scale")
    cells = {n: Cell("redis", n) for n in levels}

    async def visit(n: int) -> None:
        store = AsyncRedisStore(url=url, prefix="scale")
        try:
            for _ in range(rounds):
                await measure(store, cells[n], n, samples)
        finally:
            await store.close()

    try:
        sync.client.flushdb()
        empty = redis_memory(sync.client)
        filled = 0
        for n in levels:
            t0 = time.perf_counter()
            redis_fill(url, sync._layout, filled, n)
            print(f"  redis: {n:,} sessions ({time.perf_counter() - t0:.1f} s)")
            filled = n
            cells[n].bytes_per_session = (redis_memory(sync.client) - empty) / n
            encoding = sync.client.object("encoding", sync._layout.skey(key_of(n - 1)))
            cells[n].note = (
                f"sampled MEMORY USAGE {redis_sampled_bytes(sync, n):,.0f} B, "
                f"hash {encoding.decode()}"
            )
            await visit(n)
        sync.client.flushdb()
        redis_fill(url, sync._layout, 0, levels[0])
        await visit(levels[0])
    finally:
        sync.client.flushdb()
        sync.client.close()
    return list(cells.values())


# -- SQLite ---------------------------------------------------------------------------------


def sqlite_fill(path: Path, population: int) -> None:
    AsyncSQLiteStore(path, purge_interval=None).sync.close()  # the store's own schema
    conn = sqlite3.connect(path)
    # A bulk load only: random keys into a large B-tree need the pages cached; durability of
    # the load itself does not matter (the file is checkpointed before it is measured).
    conn.execute("PRAGMA cache_size = -1000000")
    conn.execute("PRAGMA synchronous = OFF")
    columns = (
        "key, handle, user_id, created_at, last_seen_at, expires_at, authenticated_at, origin, "
        "ip, user_agent, data, meta"
    )
    insert = f"INSERT INTO sessionward_sessions ({columns}) VALUES ({', '.join('?' * 12)})"

    def rows(first: int, stop: int) -> Iterator[tuple[Any, ...]]:
        for i in range(first, stop):
            yield sqlite_row(plain_of(i))

    with conn:
        for first in range(0, population, 50_000):
            conn.executemany(insert, rows(first, min(first + 50_000, population)))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


async def sqlite_rounds(tmp: Path, levels: list[int], rounds: int, samples: int) -> list[Cell]:
    cells = []
    stores = []
    for n in levels:
        path = tmp / f"scale-{n}.sqlite3"
        t0 = time.perf_counter()
        sqlite_fill(path, n)
        print(f"  sqlite: {n:,} sessions ({time.perf_counter() - t0:.1f} s)")
        cell = Cell("sqlite", n)
        cell.bytes_per_session = path.stat().st_size / n
        cells.append(cell)
        stores.append(AsyncSQLiteStore(path, purge_interval=None))
    try:
        for _ in range(rounds):
            for cell, store in zip(cells, stores, strict=True):
                await measure(store, cell, cell.sessions, samples)
    finally:
        for store in stores:
            await store.close()
    return cells


# -- PostgreSQL -----------------------------------------------------------------------------


def postgres_bytes(url: str, population: int) -> Cell:
    import psycopg

    from sessionward.stores.postgres import PostgresStore

    PostgresStore(url, schema="scale_h2", purge_interval=None).close()
    cell = Cell("postgres", population)
    with psycopg.connect(url, autocommit=True) as conn:
        try:
            t0 = time.perf_counter()
            with conn.cursor() as cur:
                copy = "COPY scale_h2.sessions FROM STDIN"
                with cur.copy(copy) as sink:
                    for i in range(population):
                        sink.write_row(postgres_row(plain_of(i)))
                cur.execute("VACUUM ANALYZE scale_h2.sessions")
                cur.execute("SELECT pg_total_relation_size('scale_h2.sessions')")
                row = cur.fetchone()
            size = int(row[0]) if row else 0
            print(f"  postgres: {population:,} sessions ({time.perf_counter() - t0:.1f} s)")
            cell.bytes_per_session = size / population
            cell.note = "table + indexes + TOAST"
        finally:
            conn.execute("DROP SCHEMA IF EXISTS scale_h2 CASCADE")
    return cell


# -- report ---------------------------------------------------------------------------------


def table(cells: list[Cell], header: str) -> str:
    lines = [
        header,
        "",
        "| store | stored sessions | get+update median us | p99 us | x smallest | get median us "
        "| list 1,000 ms | bytes / session |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    base: dict[str, float] = {}
    for c in cells:
        size = "-" if c.bytes_per_session is None else f"{c.bytes_per_session:,.0f}"
        if c.note:
            size += f" ({c.note})"
        if not c.pair_us:
            lines.append(f"| {c.store} | {c.sessions:,} | - | - | - | - | - | {size} |")
            continue
        pair = statistics.median(c.pair_us)
        base.setdefault(c.store, pair)
        lines.append(
            f"| {c.store} | {c.sessions:,} | {pair:,.0f} | {statistics.median(c.p99_us):,.0f} "
            f"| {pair / base[c.store]:.2f} | {statistics.median(c.get_us):,.0f} "
            f"| {statistics.median(c.list_ms):.1f} | {size} |"
        )
    return "\n".join(lines)


def write_docs(path: Path, text: str) -> None:
    doc = path.read_text()
    if START not in doc:
        doc = doc.rstrip("\n") + f"\n\n## Scale\n\n{START}\n{END}\n"
    head, rest = doc.split(START, 1)
    tail = rest.split(END, 1)[1]
    path.write_text(f"{head}{START}\n{text}\n{END}{tail}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-sessions", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--samples", type=int, default=1000, help="requests per cell and round")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--pg-sessions", type=int, default=100_000, help="for bytes/session")
    parser.add_argument("--stores", default="redis,sqlite,postgres")
    parser.add_argument("--output", default=str(ROOT / "docs/benchmarks.md"))
    parser.add_argument("--no-docs", action="store_true", help="print the table only")
    opts = parser.parse_args()
    if opts.max_sessions < 2 * LIST_SIZE:
        raise SystemExit(f"--max-sessions must be at least {2 * LIST_SIZE}")
    levels = [n for n in (10_000, 100_000, 1_000_000) if n < opts.max_sessions]
    levels.append(opts.max_sessions)
    stores = opts.stores.split(",")
    check_encoders()
    started = time.perf_counter()
    cells: list[Cell] = []
    if "redis" in stores:
        cells += await redis_rounds(opts.redis_url, levels, opts.rounds, opts.samples)
    if "sqlite" in stores:
        with tempfile.TemporaryDirectory(dir="/tmp", prefix="sw-scale-") as tmp:
            cells += await sqlite_rounds(Path(tmp), levels, opts.rounds, opts.samples)
    if "postgres" in stores:
        cells.append(postgres_bytes(opts.postgres, min(opts.pg_sessions, opts.max_sessions)))
    load = os.getloadavg()[0]
    header = (
        f"_Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {opts.rounds} rounds of "
        f"{opts.samples:,} get+update pairs per cell, one at a time, median round shown; "
        f"{os.cpu_count()} CPUs, 1-minute load average at the end {load:.1f}; "
        f"{time.perf_counter() - started:.0f} s in all._"
    )
    text = table(cells, header)
    print(text)
    if not opts.no_docs:
        write_docs(Path(opts.output), text)


if __name__ == "__main__":
    asyncio.run(main())
