"""Per-request cost in-process (no server, no sockets): compare two checkouts side by side.

    .venv/bin/python bench/inprocess.py                      # this checkout only
    .venv/bin/python bench/inprocess.py --against ../old     # and another checkout, interleaved

Each round starts one fresh process per checkout (``PYTHONPATH=<checkout>/src``) that builds
``bench/apps.py``'s app for ``--app`` (default sessionward-memory), logs in once, then drives
``--requests`` read and read+write requests through a plain ASGI call loop and prints the mean
microseconds per request. Rounds alternate between the checkouts so a noisy moment hurts both;
the median round is reported. ``--callgrind`` counts instructions instead (valgrind: per
workload a run of 100 warm-ups and 0 requests and one of 100 and ``--requests``, whose
difference is the requests, with one fixed string hash seed), which does not move with the
machine's load. This is not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WORKER = r"""
import asyncio, json, sys, time
sys.path.insert(0, sys.argv[1])
import apps

app = apps.make()


async def call(method, path, cookie):
    headers = [(b"host", b"bench")]
    if cookie:
        headers.append((b"cookie", cookie))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "https", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 40000), "server": ("bench", 443)}
    sent = []
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}
    async def send(message):
        sent.append(message)
    await app(scope, receive, send)
    for name, value in sent[0].get("headers", []):
        if name == b"set-cookie":
            return value.split(b";", 1)[0]
    return cookie


async def main(n, warm, only):
    cookie = await call("POST", "/setup", None)
    result = {}
    for label, method, path in (("read", "GET", "/read"), ("write", "POST", "/write")):
        if only not in ("both", label):
            continue
        for _ in range(warm):
            cookie = await call(method, path, cookie)
        start = time.perf_counter()
        for _ in range(n):
            cookie = await call(method, path, cookie)
        result[label] = (time.perf_counter() - start) / max(n, 1) * 1e6
    print(json.dumps(result))


asyncio.run(main(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]))
"""


def run_worker(
    checkout: Path, app: str, requests: int, warm: int = 200, only: str = "both", wrap=()
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(checkout / "src"), "BENCH_APP": app}
    if wrap:  # counted runs: one string hash seed, so dict layouts and counts repeat
        env["PYTHONHASHSEED"] = "0"
    command = [sys.executable, "-c", WORKER, str(checkout / "bench"), str(requests)]
    return subprocess.run(
        [*wrap, *command, str(warm), only],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=900,
    )


def one_round(checkout: Path, app: str, requests: int) -> dict[str, float]:
    out = run_worker(checkout, app, requests)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def instructions_per_request(checkout: Path, app: str, requests: int) -> dict[str, float]:
    """Instructions per request of each workload, counted by callgrind."""
    wrap = ("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null")
    per = {}
    for only in ("read", "write"):
        counts = []
        for n in (0, requests):
            stderr = run_worker(checkout, app, n, 100, only, wrap).stderr
            found = re.search(r"Collected : (\d+)", stderr)
            if found is None:
                raise SystemExit("no callgrind total in:\n" + stderr[-2000:])
            counts.append(int(found.group(1)))
        per[only] = (counts[1] - counts[0]) / requests
    return per


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, help="another checkout to compare with")
    parser.add_argument("--app", default="sessionward-memory")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--callgrind", action="store_true", help="instructions (slow)")
    args = parser.parse_args()
    checkouts = {"this": ROOT}
    if args.against is not None:
        checkouts["against"] = args.against.resolve()
    if args.callgrind:
        for name, path in checkouts.items():
            per = instructions_per_request(path, args.app, min(args.requests, 300))
            print(
                f"{name:8} {path}: read {per['read'] / 1e3:,.1f} k, "
                f"read+write {per['write'] / 1e3:,.1f} k instructions per request"
            )
        return
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name in checkouts}
    for _ in range(args.rounds):
        for name, path in checkouts.items():
            rounds[name].append(one_round(path, args.app, args.requests))
    for name, path in checkouts.items():
        read = statistics.median(r["read"] for r in rounds[name])
        write = statistics.median(r["write"] for r in rounds[name])
        print(f"{name:8} {path}: read {read:6.1f} us/request, read+write {write:6.1f} us/request")


if __name__ == "__main__":
    main()
