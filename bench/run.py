"""Benchmark sessionward against bare Starlette and its peers; write docs/benchmarks.md.

    .venv/bin/python bench/run.py            # defaults: 3 interleaved rounds of 2 s per cell

Every app runs in its own uvicorn process (one worker) on 127.0.0.1; wrk drives them with one
thread per connection. Rounds are interleaved (round 1 of every cell, then round 2...) so a
noisy moment hurts every contender alike; each cell reports its median round. Lost updates: in
the read+write workload each connection increments its own key, so no two concurrent requests
change the same key; a correct store keeps every increment a 200 response acknowledged.

This is not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = [
    "bare",
    "starlette-cookie",
    "starsessions-memory",
    "starsessions-redis",
    "sessionward-memory",
    "sessionward-sqlite",
    "sessionward-redis",
    "sessionward-postgres",
]
# Not in the default run: sessionward-redis on other clients (docs: "Redis client comparison").
REDIS_CLIENT_APPS = ["sessionward-redis-py", "sessionward-redis-glide"]
WORKLOADS = {"read": "/read", "write": "/write"}
LUA = ROOT / "bench" / "wrk.lua"
REDIS_URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/0")


@dataclass
class Cell:
    app: str
    workload: str
    connections: int
    rps: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)
    errors: int = 0
    acknowledged: int = 0
    lost: int | None = 0
    redis_us: list[float] = field(default_factory=list)  # Redis server CPU per request
    app_us: list[float] = field(default_factory=list)  # the app server's CPU per request


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def request(url: str, method: str = "GET", cookie: str | None = None) -> tuple[str, str | None]:
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    # The same User-Agent as wrk's: sessionward's default anomaly rule revokes a session whose
    # User-Agent changes.
    req.add_header("User-Agent", "bench")
    if cookie:
        req.add_header("Cookie", cookie)
    with urllib.request.urlopen(req, timeout=10) as resp:  # 127.0.0.1 only
        set_cookie = resp.headers.get("set-cookie")
        body = resp.read().decode()
    return body, None if set_cookie is None else set_cookie.split(";", 1)[0]


def start(app: str, env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Serve ``app``; ``name@/other/checkout`` serves that checkout's ``src`` instead of ours
    (before/after comparisons in one interleaved run)."""
    app, _, checkout = app.partition("@")
    if checkout:
        env = {**env, "PYTHONPATH": str(Path(checkout).resolve() / "src")}
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "apps:app", "--port", str(port)]
    cmd += ["--host", "127.0.0.1", "--workers", "1", "--no-access-log", "--log-level", "warning"]
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT / "bench",
            env={**os.environ, **env, "BENCH_APP": app},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            request(url + "/read")
            return proc, url
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"{app} failed to start; see {log}") from None
            time.sleep(0.05)
    raise SystemExit(f"{app} did not start")


def run_cell(cell: Cell, url: str, duration: float, pid: int | None = None) -> None:
    _, cookie = request(url + "/setup", "POST")
    env = {
        **os.environ,
        "BENCH_PATH": WORKLOADS[cell.workload],
        "BENCH_COOKIE": cookie or "none=1",
        "BENCH_WRITE": "1" if cell.workload == "write" else "0",
    }
    c = cell.connections
    background = redis_background_rate() if uses_redis(cell.app) else 0.0
    cpu_before = redis_cpu_seconds() if uses_redis(cell.app) else 0.0
    app_before = process_cpu_seconds(pid)
    out = subprocess.run(
        ["wrk", "-t", str(c), "-c", str(c), "-d", f"{round(duration)}s", "-s", str(LUA), url],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    _, good, bad, total, micros, p99, counts = line.split(" ", 6)
    if pid is not None:
        cell.app_us.append((process_cpu_seconds(pid) - app_before) / max(1, int(total)) * 1e6)
    if uses_redis(cell.app):
        used = redis_cpu_seconds() - cpu_before - background * int(micros) / 1e6
        cell.redis_us.append(max(0.0, used) / max(1, int(total)) * 1e6)
    cell.rps.append(int(good) / (int(micros) / 1e6))
    cell.p99_ms.append(int(p99) / 1000)
    cell.errors += int(bad)
    if cell.workload != "write" or cookie is None:
        return
    acked = {k: int(v) for k, v in (kv.split("=") for kv in counts.strip().split(","))}
    cell.acknowledged += sum(acked.values())
    if cell.app == "starlette-cookie":
        cell.lost = None  # state travels in the cookie, which the load generator does not keep
        return
    stored = json.loads(request(url + "/dump", cookie=cookie)[0])
    assert cell.lost is not None
    cell.lost += sum(max(0, n - int(stored.get(k, 0))) for k, n in acked.items())


def label(app: str) -> str:
    """The name a cell is shown under: ``name@/x/checkout`` as ``name@checkout``."""
    name, _, checkout = app.partition("@")
    return f"{name}@{Path(checkout).name}" if checkout else name


def uses_redis(app: str) -> bool:
    name = app.partition("@")[0]  # "name@/other/checkout" runs another checkout's code
    return name.endswith("-redis") or name.startswith("sessionward-redis-")


def redis_cpu_seconds() -> float:
    """CPU time (user + system) the Redis server has used so far, from ``INFO cpu``.

    It is the whole server's: other clients of the same Redis during a cell count too
    (``redis_background_rate`` takes most of that out).
    """
    import redis

    with redis.Redis.from_url(REDIS_URL) as client:
        info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def process_cpu_seconds(pid: int | None) -> float:
    """User + system CPU of one process (all its threads) so far, from /proc (Linux)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def redis_background_rate(seconds: float = 0.5) -> float:
    """Redis CPU seconds per second while this bench sends nothing (other clients' share).

    Measured right before each Redis cell and subtracted from it: on a Redis that serves
    only the bench it is ~0; on a shared one it removes most of the others' load.
    """
    before = redis_cpu_seconds()
    time.sleep(seconds)
    return max(0.0, redis_cpu_seconds() - before) / seconds


def cleanup(namespace: str, apps: list[str]) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    from sessionward.stores.postgres import PostgresStore

    if any(uses_redis(app) for app in apps):
        import redis

        from sessionward.stores.redis import RedisStore

        url = REDIS_URL
        client = redis.Redis.from_url(url)
        for key in client.scan_iter(match=f"{namespace}.star.*"):
            client.delete(key)
        client.close()
        RedisStore(url=url, prefix=namespace).delete_all()
    pg = PostgresStore("postgresql://postgres@127.0.0.1:5432/test", schema=namespace)
    pg._drive(pg.plans.drop_schema(), atomic=True)
    pg.close()


def table(cells: list[Cell]) -> str:
    bare = {(c.workload, c.connections): statistics.median(c.rps) for c in cells if c.app == "bare"}
    lines = [
        "| app | workload | conns | req/s | x bare | p99 ms | errors | lost updates "
        "| app CPU us/req | Redis CPU us/req |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in cells:
        rps = statistics.median(c.rps)
        ratio = rps / bare[(c.workload, c.connections)]
        if c.workload == "read":
            lost = "-"
        elif c.lost is None:
            lost = "n/a"
        else:
            lost = f"{c.lost} of {c.acknowledged}"
        lines.append(
            f"| {label(c.app)} | {'read+write' if c.workload == 'write' else 'read-only'} "
            f"| {c.connections} | {rps:,.0f} | {ratio:.2f} | {statistics.median(c.p99_ms):.1f} "
            f"| {c.errors} | {lost} | {app_column(c)} | {redis_column(c)} |"
        )
    return "\n".join(lines)


def app_column(cell: Cell) -> str:
    return f"{statistics.median(cell.app_us):.0f}" if cell.app_us else "-"


def redis_column(cell: Cell) -> str:
    return f"{statistics.median(cell.redis_us):.1f}" if cell.redis_us else "-"


START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def write_table(path: Path, text: str, args: argparse.Namespace) -> None:
    """Replace the table between the markers in ``path``, keeping the prose around it."""
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    block = (
        f"{START}\n_Run {stamp}: {args.rounds} interleaved rounds of {args.duration} s per cell, "
        f"median round shown; {os.cpu_count()} CPUs, 1-minute load average at the end "
        f"{os.getloadavg()[0]:.1f}._\n\n{text}\n{END}"
    )
    old = path.read_text() if path.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    if START not in old or END not in old:
        old = old.rstrip("\n") + f"\n\n{START}\n{END}\n"
    head, rest = old.split(START, 1)
    path.write_text(head + block + rest.split(END, 1)[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=2, help="seconds per cell run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--apps", default=",".join(APPS))
    parser.add_argument("--output", default=str(ROOT / "docs/benchmarks.md"))
    parser.add_argument("--wsgi", action="store_true", help="the WSGI cells (bench/wsgi_cells.py)")
    args = parser.parse_args()
    if args.wsgi:
        import wsgi_cells

        wsgi_cells.main(args)
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    apps = args.apps.split(",")
    # BENCH_PREFIX: the PostgreSQL schema / Redis key prefix a run may use (dropped after it).
    namespace = f"{os.environ.get('BENCH_PREFIX', 'bench')}_{uuid.uuid4().hex[:8]}"
    tmp = Path(tempfile.mkdtemp(prefix="sessionward-bench-"))
    env = {"BENCH_NAMESPACE": namespace, "BENCH_SQLITE": str(tmp / "sessions.sqlite3")}
    servers: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
    cells = [Cell(a, w, c) for w in WORKLOADS for c in (1, 32) for a in apps]
    try:
        for app in apps:
            servers[app] = start(app, env, tmp / "server.log")
        for rnd in range(args.rounds):
            for cell in cells:
                proc, url = servers[cell.app]
                run_cell(cell, url, args.duration, proc.pid)
            print(f"round {rnd + 1}/{args.rounds} done", file=sys.stderr)
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=10)
        cleanup(namespace, apps)
        shutil.rmtree(tmp, ignore_errors=True)
    text = table(cells)
    print(text)
    write_table(Path(args.output), text, args)
    write_chart(cells, Path(args.output).with_suffix(".png"))


def write_chart(cells: list[Cell], path: Path) -> None:
    """Redraw the chart the docs show beside the table (bench/chart.py)."""
    import chart

    rows = [
        (label(c.app), "read+write" if c.workload == "write" else "read-only", c.connections, rps)
        for c in cells
        for rps in [statistics.median(c.rps)]
    ]
    stamp = time.strftime("%Y-%m-%d", time.gmtime())
    title = f"bench/run.py, {stamp}: one uvicorn worker per app, wrk on 127.0.0.1"
    if not chart.draw(rows, path, title):
        print("matplotlib is not installed (pip install -e '.[bench]'): chart not redrawn")


if __name__ == "__main__":
    main()
