"""App-process cost per request of the WSGI apps, without a server: CPU time or instructions.

    .venv/bin/python bench/wsgi_inprocess.py --apps flask --rounds 5
    .venv/bin/python bench/wsgi_inprocess.py --apps django --callgrind   # instructions (slow)
    .venv/bin/python bench/wsgi_inprocess.py --apps flask-sessionward-redis --profile
    .venv/bin/python bench/wsgi_inprocess.py --apps flask --keys 32   # a session of 33 keys
    SORT=cumulative NSTATS=60 .venv/bin/python bench/wsgi_inprocess.py --apps ... --profile

Each round starts one fresh process per app of bench/wsgi_apps.py (Redis DB 13, its own
prefix), creates a session with ``POST /setup``, then drives ``--requests`` read-only and
read+write requests through a plain WSGI call (no sockets to the client; the store's round
trips to Redis are real). It reports the process's CPU time per request (``time.process_time``:
waiting for Redis does not count, other processes' load matters less than for wall time), the
median round of each. ``--callgrind`` counts instructions instead (valgrind, one round: per
workload two runs of different lengths, so start-up cancels out), which does not move with the
machine's load.
``--against DIR`` also runs another checkout's ``src`` with this bench, interleaved. Nothing
here asserts a speed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GROUPS = {
    "flask": ["flask-bare", "flask-session-redis", "flask-sessionward-redis"],
    "django": ["django-bare", "django-cache-redis", "django-sessionward-redis"],
}
REDIS_URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/13")

WORKER = r"""
import cProfile, io, json, os, pstats, sys, time
sys.path.insert(0, sys.argv[1])
import wsgi_apps

app = wsgi_apps.app


def call(method, path, query, cookie):
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
               "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1",
               "REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": "bench", "SERVER_PROTOCOL":
               "HTTP/1.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""),
               "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess":
               False, "wsgi.run_once": False, "wsgi.version": (1, 0), "CONTENT_LENGTH": "0"}
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    got = []
    def start_response(status, headers, exc_info=None):
        got.append((status, headers))
    body = app(environ, start_response)
    b"".join(body)
    close = getattr(body, "close", None)
    if close is not None:
        close()
    status, headers = got[0]
    if not status.startswith("200"):
        raise SystemExit(f"{path}: {status}")
    for name, value in headers:
        if name.lower() == "set-cookie":
            return value.split(";", 1)[0].strip()
    return cookie


def main(n, profile, warm, only, keys):
    cookie = call("POST", "/setup", "", None)
    for i in range(2, keys + 1):  # the session grows to ``keys`` counters, as under wrk
        cookie = call("POST", "/write", f"k=c{i}", cookie)
    result = {}
    for label, method, path, query in (("read", "GET", "/read", ""),
                                       ("write", "POST", "/write", "k=c1")):
        if only not in ("both", label):
            continue
        for _ in range(warm):
            cookie = call(method, path, query, cookie)
        prof = cProfile.Profile(time.process_time) if profile else None
        if prof:
            prof.enable()
        start = time.process_time()
        for _ in range(n):
            cookie = call(method, path, query, cookie)
        result[label] = (time.process_time() - start) / max(n, 1) * 1e6
        if prof:
            prof.disable()
            out = io.StringIO()
            stats = pstats.Stats(prof, stream=out).sort_stats(os.environ.get("SORT", "tottime"))
            stats.print_stats(int(os.environ.get("NSTATS", "25")))
            print(label, out.getvalue(), file=sys.stderr)
    print(json.dumps(result))


main(int(sys.argv[2]), sys.argv[3] == "1", int(sys.argv[4]), sys.argv[5], int(sys.argv[6]))
"""


def run_one(
    app: str,
    src: Path,
    requests: int,
    wrap: list[str],
    profile: bool,
    warm: int = 200,
    only: str = "both",
    keys: int = 1,
) -> tuple[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(src),
        "BENCH_APP": app,
        "BENCH_REDIS": REDIS_URL,
        "BENCH_NAMESPACE": f"inproc_{uuid.uuid4().hex[:8]}",
    }
    cmd = [*wrap, sys.executable, "-c", WORKER, str(ROOT / "bench"), str(requests)]
    cmd += ["1" if profile else "0", str(warm), only, str(keys)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{app} failed:\n{out.stderr[-3000:]}")
    return out.stdout, out.stderr


def instructions(stderr: str) -> int:
    found = re.search(r"Collected : (\d+)", stderr)
    if found is None:
        raise SystemExit("no callgrind total in:\n" + stderr[-2000:])
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--apps", default="flask,django")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--against", help="another checkout, run with this bench")
    parser.add_argument("--callgrind", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile, printed to stderr")
    parser.add_argument(
        "--keys", type=int, default=1, help="counters in the session (32 connections make 32)"
    )
    args = parser.parse_args()
    apps: list[str] = []
    for name in args.apps.split(","):
        apps += GROUPS.get(name, [name])
    sources = {"this": ROOT / "src"}
    if args.against:
        sources["other"] = Path(args.against).resolve() / "src"
    runs = [(app, label) for app in apps for label in sources]
    if args.callgrind:
        wrap = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
        for app, label in runs:
            # Per workload, two runs of 20 warm-ups and n requests; their difference is the
            # requests (start-up and the setup request cancel out).
            per: dict[str, float] = {}
            for only in ("read", "write"):
                counts = [
                    instructions(
                        run_one(app, sources[label], n, wrap, False, 20, only, args.keys)[1]
                    )
                    for n in (10, 10 + args.requests)
                ]
                per[only] = (counts[1] - counts[0]) / args.requests
            print(
                f"{app} [{label}]: read {per['read'] / 1e3:,.1f} k, read+write "
                f"{per['write'] / 1e3:,.1f} k instructions per request"
            )
        return
    results: dict[tuple[str, str], list[dict[str, float]]] = {run: [] for run in runs}
    for _ in range(args.rounds):
        for app, label in runs:
            stdout, stderr = run_one(
                app, sources[label], args.requests, [], args.profile, keys=args.keys
            )
            if args.profile:
                print(f"== {app} [{label}]\n{stderr}", file=sys.stderr)
            results[(app, label)].append(json.loads(stdout.strip().splitlines()[-1]))
    for (app, label), rounds in results.items():
        read = statistics.median(r["read"] for r in rounds)
        write = statistics.median(r["write"] for r in rounds)
        print(f"{app} [{label}]: read {read:.0f} us CPU, read+write {write:.0f} us CPU")


if __name__ == "__main__":
    main()
