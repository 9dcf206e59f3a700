"""The SQL stores' own cost per read+write request: a ``get`` then an ``update``, no HTTP.

    .venv/bin/python bench/sql_calls.py --store postgres --against ../old --rounds 3
    .venv/bin/python bench/sql_calls.py --store sqlite --conc 1 --callgrind

Each round starts one fresh process per checkout (``PYTHONPATH=<checkout>/src``, rounds
interleaved) that creates one session of 33 keys in a new PostgreSQL schema ``h3_calls_*``
(dropped afterwards) or a new SQLite file under /tmp, then runs ``--conc`` tasks that each
``get`` it and ``update`` their own key, as the read+write workload of bench/run.py does. It
reports get+update pairs per second and this process's CPU per pair (the app server's share),
and checks that no acknowledged update was lost. ``--callgrind`` instead counts the
instructions this process executes per pair (valgrind; repeatable on a busy machine): the
difference between a run of ``--pairs`` and one of twice as many, so start-up cancels out.
This is not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")

WORKER = r"""
import asyncio, json, os, sys, time, uuid
from sessionward.core.session_tokens import new_handle, new_token, token_key
from sessionward.stores import RecordUpdate, SessionRecord

kind, pairs, conc, target = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]


def make():
    if kind == "postgres":
        from sessionward.stores.postgres import AsyncPostgresStore
        return AsyncPostgresStore(target, schema="h3_calls_" + uuid.uuid4().hex[:8])
    from sessionward import AsyncSQLiteStore
    return AsyncSQLiteStore(os.path.join(target, uuid.uuid4().hex + ".sqlite3"))


async def main():
    store = make()
    now = time.time()
    record = SessionRecord(
        key=token_key(new_token()), handle=new_handle(), user_id="u", created_at=now,
        last_seen_at=now, expires_at=now + 3600,
        data={f"c{i}": 0 for i in range(32)} | {"user": "alice"},
    )
    await store.create(record, now=now)
    per_task = max(1, pairs // conc)

    async def worker(i):
        for j in range(per_task):
            got = await store.get(record.key)
            await store.update(record.key, RecordUpdate(set_data={f"c{i}": got.data[f"c{i}"] + 1}))

    for _ in range(2):  # warm up: prepared statements, pool filled
        await asyncio.gather(*(store.get(record.key) for _ in range(conc)))
    t0, c0 = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker(i) for i in range(conc)))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    final = await store.get(record.key)
    lost = sum(per_task - final.data[f"c{i}"] for i in range(conc))
    if kind == "postgres":
        await store.runner.run(store.plans.drop_schema(), atomic=True)
    await store.close()
    if kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            try:
                os.remove(str(store.sync.path) + suffix)
            except FileNotFoundError:
                pass
    done = per_task * conc
    print(json.dumps({"rate": done / wall, "cpu_us": cpu / done * 1e6, "lost": lost}))


asyncio.run(main())
"""


def _env(checkout: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(checkout / "src")}


def one_round(checkout: Path, args: argparse.Namespace, target: str) -> dict[str, float]:
    cmd = [sys.executable, "-c", WORKER, args.store, str(args.pairs), str(args.conc), target]
    out = subprocess.run(
        cmd, env=_env(checkout), check=True, capture_output=True, text=True, timeout=300
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def instructions(checkout: Path, args: argparse.Namespace, target: str, pairs: int) -> int:
    with tempfile.TemporaryDirectory(prefix="h3_cg_") as tmp:
        out_file = Path(tmp) / "callgrind.out"
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}"]
        cmd += [sys.executable, "-c", WORKER, args.store, str(pairs), str(args.conc), target]
        subprocess.run(cmd, env=_env(checkout), check=True, capture_output=True, timeout=600)
        for line in out_file.read_text().splitlines():
            if line.startswith("totals:") or line.startswith("summary:"):
                return int(line.split()[1])
    raise SystemExit("callgrind wrote no totals")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--against", type=Path, help="another checkout to compare with")
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--conc", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--callgrind", action="store_true", help="count instructions instead")
    args = parser.parse_args()
    checkouts = {"this": ROOT}
    if args.against is not None:
        checkouts["against"] = args.against.resolve()
    tmp = tempfile.mkdtemp(prefix="h3_sql_calls_")
    target = POSTGRES_URL if args.store == "postgres" else tmp
    try:
        if args.callgrind:
            for name, path in checkouts.items():
                small = instructions(path, args, target, args.pairs)
                large = instructions(path, args, target, 2 * args.pairs)
                print(f"{name:8} {path}: {(large - small) / args.pairs:,.0f} instructions per pair")
            return
        rounds: dict[str, list[dict[str, float]]] = {name: [] for name in checkouts}
        for _ in range(args.rounds):
            for name, path in checkouts.items():
                rounds[name].append(one_round(path, args, target))
        for name, path in checkouts.items():
            rate = statistics.median(r["rate"] for r in rounds[name])
            cpu = statistics.median(r["cpu_us"] for r in rounds[name])
            lost = sum(r["lost"] for r in rounds[name])
            print(
                f"{name:8} {path}: {rate:7,.0f} get+update/s, client CPU {cpu:5.0f} us per pair,"
                f" {lost:.0f} lost updates"
            )
    finally:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
