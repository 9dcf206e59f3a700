"""The WSGI cells of the benchmark: Flask and Django under gunicorn (``bench/run.py --wsgi``).

    .venv/bin/python bench/run.py --wsgi --apps flask      # the Flask cells, ~2 minutes
    .venv/bin/python bench/run.py --wsgi --apps django     # the Django cells

Every app of bench/wsgi_apps.py runs in two gunicorn servers on 127.0.0.1, each with one
worker: ``--worker-class sync`` (one request at a time, no keep-alive: wrk reconnects for every
request) and ``--worker-class gthread --threads 8``. wrk drives the sync worker at 1 and at 32
connections (the 32 queue in the listen backlog) and the gthread worker at 32. Rounds are
interleaved as in bench/run.py and each cell reports its median round; lost updates are counted
the same way (bench/wrk.lua: each connection increments its own key).

Redis: every app uses ``BENCH_REDIS`` (DB 13 by default) under a per-run prefix; the run ends
with that database flushed. Nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from run import APPS, ROOT, Cell, free_port, request, run_cell

FLASK = ["flask-bare", "flask-session-redis", "flask-sessionward-redis"]
DJANGO = ["django-bare", "django-cache-redis", "django-sessionward-redis"]
GROUPS = {"flask": FLASK, "django": DJANGO}
#: The sessionward app of each framework, with the peer it is compared with.
PEERS = {
    "flask-sessionward-redis": "flask-session-redis",
    "django-sessionward-redis": "django-cache-redis",
}
#: (gunicorn worker class, wrk connections), in table order.
SHAPES = [("sync", 1), ("sync", 32), ("gthread", 32)]
WORKERS = {
    "sync": ["--worker-class", "sync"],
    "gthread": ["--worker-class", "gthread", "--threads", "8"],
}
REDIS_URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/13")


@dataclass
class WSGICell(Cell):
    worker: str = "sync"


Server = tuple[subprocess.Popen[bytes], str]


def start(app: str, worker: str, env: dict[str, str], log: Path) -> Server:
    port = free_port()
    cmd = [sys.executable, "-m", "gunicorn", "wsgi_apps:app", "--bind", f"127.0.0.1:{port}"]
    cmd += ["--workers", "1", *WORKERS[worker], "--log-level", "warning"]
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT / "bench",
            env={**os.environ, **env, "BENCH_APP": app, "BENCH_REDIS": REDIS_URL},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            request(url + "/read")
            return proc, url
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"{app} ({worker}) failed to start; see {log}") from None
            time.sleep(0.05)
    raise SystemExit(f"{app} ({worker}) did not start; see {log}")


def cleanup() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()  # the bench's own database (13 unless BENCH_REDIS says otherwise)
    client.close()


def table(cells: list[WSGICell]) -> str:
    medians = {
        (c.app, c.worker, c.workload, c.connections): statistics.median(c.rps) for c in cells
    }
    lines = [
        "| app | worker | workload | conns | req/s | x bare | x peer | p99 ms | errors "
        "| lost updates |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in cells:
        shape = (c.worker, c.workload, c.connections)
        rps = medians[(c.app, *shape)]
        bare = medians.get((c.app.split("-", 1)[0] + "-bare", *shape))
        peer = medians.get((PEERS.get(c.app, ""), *shape))
        lost = "-" if c.workload == "read" else f"{c.lost} of {c.acknowledged}"
        lines.append(
            f"| {c.app} | {c.worker} | {'read+write' if c.workload == 'write' else 'read-only'} "
            f"| {c.connections} | {rps:,.0f} | {'-' if bare is None else f'{rps / bare:.2f}'} "
            f"| {'-' if peer is None else f'{rps / peer:.2f}'} "
            f"| {statistics.median(c.p99_ms):.1f} | {c.errors} | {lost} |"
        )
    return "\n".join(lines)


def write_block(path: Path, group: str, text: str, rounds: int, duration: int) -> None:
    """Replace this group's table between its markers in ``path``, keeping everything else."""
    start, end = f"<!-- wsgi-{group}:start -->", f"<!-- wsgi-{group}:end -->"
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    block = (
        f"{start}\n_Run {stamp}: {rounds} interleaved rounds of {duration} s per cell, median "
        f"round shown; {os.cpu_count()} CPUs, 1-minute load average at the end "
        f"{os.getloadavg()[0]:.1f}._\n\n{text}\n{end}"
    )
    old = path.read_text() if path.exists() else "# Benchmarks\n"
    if start not in old or end not in old:
        old = old.rstrip("\n") + f"\n\n{start}\n{end}\n"
    head, rest = old.split(start, 1)
    path.write_text(head + block + rest.split(end, 1)[1])


def main(args: argparse.Namespace) -> None:
    """Run the WSGI cells of ``args.apps`` (app names, or ``flask`` / ``django``)."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    names = "flask,django" if args.apps == ",".join(APPS) else args.apps  # run.py's default
    apps: list[str] = []
    for name in names.split(","):
        apps += GROUPS.get(name, [name])
    namespace = f"bench_{uuid.uuid4().hex[:8]}"
    tmp = Path(tempfile.mkdtemp(prefix="sessionward-wsgi-bench-"))
    env = {"BENCH_NAMESPACE": namespace}
    servers: dict[tuple[str, str], Server] = {}
    cells = [
        WSGICell(app, workload, conns, worker=worker)
        for worker, conns in SHAPES
        for workload in ("read", "write")
        for app in apps
    ]
    try:
        for app in apps:
            for worker in WORKERS:
                servers[(app, worker)] = start(app, worker, env, tmp / "server.log")
        for rnd in range(args.rounds):
            for cell in cells:
                run_cell(cell, servers[(cell.app, cell.worker)][1], args.duration)
            print(f"round {rnd + 1}/{args.rounds} done", file=sys.stderr)
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=10)
        cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    for group, members in GROUPS.items():
        chosen = [c for c in cells if c.app in members]
        if chosen:
            text = table(chosen)
            print(text)
            write_block(Path(args.output), group, text, args.rounds, args.duration)
