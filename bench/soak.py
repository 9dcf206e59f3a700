"""A bounded soak: app processes sharing a store under steady mixed traffic, sampled over time.

    .venv/bin/python bench/soak.py --stores sqlite,redis --duration 60

For each store, ``--processes`` uvicorn processes (one for ``memory``, which is per-process)
serve a small app on 127.0.0.1 while ``--concurrency`` clients log in (50 users, at most 3
sessions each, evict-oldest), read, write, log out, walk away without logging out (5%) and
send garbage cookies (5%). Sessions idle
out after 20 s, so expiry, the automatic purge (every 5 s, no grace, on SQLite and PostgreSQL)
and the Redis per-user index trim all run within a short soak. Every ``--sample`` seconds it
prints per-process memory (RSS), the store's size and the error counts so far. Each store run
stops after ``--duration`` seconds or ``--requests`` requests, whichever comes first, and
cleans up after itself (temporary directory, Redis prefix, PostgreSQL schema).

This is not a test: nothing here asserts; read the figures (docs/operations.md has a run).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("SESSIONWARD_TEST_REDIS", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get(
    "SESSIONWARD_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
COOKIE = "__Host-session"
USERS = [f"user{i}" for i in range(50)]
IDLE = 20.0


# -- the app (uvicorn --factory bench.soak:make_app) ---------------------------------------


def _store() -> Any:
    kind, target, ns = (os.environ[k] for k in ("SOAK_STORE", "SOAK_TARGET", "SOAK_NS"))
    sweep = {"purge_interval": 5.0, "purge_grace": 0.0}
    if kind == "memory":
        from sessionward import AsyncMemoryStore

        return AsyncMemoryStore()
    if kind == "sqlite":
        from sessionward import AsyncSQLiteStore

        return AsyncSQLiteStore(target, **sweep)
    if kind == "redis":
        from sessionward.stores.redis import AsyncRedisStore

        return AsyncRedisStore(url=target, prefix=ns)
    from sessionward.stores.postgres import AsyncPostgresStore

    return AsyncPostgresStore(target, schema=ns, **sweep)


def make_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    from sessionward import AsyncSessionManager, SessionPolicy
    from sessionward.integrations.asgi import SessionMiddleware
    from sessionward.monitoring import AnomalyRules, Monitoring

    policy = SessionPolicy(
        idle_timeout=IDLE, touch_interval=2, max_sessions_per_user=3, on_limit="evict_oldest"
    )
    # Every soak client comes from 127.0.0.1: the per-address guessing guard would refuse them
    # all after the first garbage cookies. The guard has its own tests; here it is off.
    monitoring = Monitoring(rules=AnomalyRules(guessing=None))
    manager = AsyncSessionManager(_store(), policy=policy, sinks=(), monitoring=monitoring)

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def login(request: Request) -> Response:
        await request.session.login(request.query_params["user"])
        return PlainTextResponse("in")

    async def read(request: Request) -> Response:
        return PlainTextResponse(str(request.session.get("n", 0)))

    async def write(request: Request) -> Response:
        request.session["n"] = int(request.session.get("n", 0)) + 1
        request.session["blob"] = "x" * 200
        return PlainTextResponse("ok")

    async def logout(request: Request) -> Response:
        await request.session.logout()
        return PlainTextResponse("bye")

    app = Starlette(
        routes=[
            Route("/health", health),
            Route("/login", login, methods=["POST"]),
            Route("/read", read),
            Route("/write", write, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]),
        ]
    )
    app.add_middleware(SessionMiddleware, manager=manager)
    return app


# -- the driver ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


class Target:
    """Where one store run keeps its data, how to measure it, and how to clean it up."""

    def __init__(self, kind: str, tmp: Path) -> None:
        self.kind = kind
        self.ns = f"soak_{uuid.uuid4().hex[:10]}"
        self.path = tmp / "soak.sqlite3"
        self.target = {"sqlite": str(self.path), "redis": REDIS_URL, "postgres": POSTGRES_URL}.get(
            kind, ""
        )

    def size(self) -> str:
        now = time.time()
        if self.kind == "sqlite":
            import sqlite3

            if not self.path.exists():
                return "-"
            with sqlite3.connect(self.path, timeout=5) as conn:
                total, expired = conn.execute(
                    "SELECT count(*), coalesce(sum(expires_at <= ?), 0) FROM sessionward_sessions",
                    (now,),
                ).fetchone()
            files = sum(p.stat().st_size for p in self.path.parent.glob("soak.sqlite3*"))
            return f"{total} rows ({expired} expired), {files / 1e6:.1f} MB"
        if self.kind == "redis":
            import redis

            client = redis.Redis.from_url(REDIS_URL)
            tag = "{" + self.ns + "}:"
            keys = index = 0
            for name in client.scan_iter(match=tag + "*", count=1000):
                keys += 1
                if name.startswith((tag + "u:").encode()):
                    index += int(client.zcard(name))
            sessions = sum(1 for _ in client.scan_iter(match=tag + "s:*", count=1000))
            client.close()
            return f"{sessions} sessions, {keys} keys, {index} index members"
        if self.kind == "postgres":
            import psycopg

            with psycopg.connect(POSTGRES_URL) as conn:
                row = conn.execute(
                    f"SELECT count(*), coalesce(sum((expires_at <= %s)::int), 0), "
                    f"pg_total_relation_size('{self.ns}.sessions') FROM {self.ns}.sessions",
                    (now,),
                ).fetchone()
            assert row is not None
            return f"{row[0]} rows ({row[1]} expired), {row[2] / 1e6:.1f} MB"
        return "- (per process)"

    def cleanup(self) -> None:
        if self.kind == "redis":
            import redis

            client = redis.Redis.from_url(REDIS_URL)
            for name in client.scan_iter(match="{" + self.ns + "}:*", count=1000):
                client.delete(name)
            client.close()
        elif self.kind == "postgres":
            import psycopg

            with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {self.ns} CASCADE")


def _start(target: Target, count: int, log: Path) -> list[tuple[subprocess.Popen[bytes], str]]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SOAK_STORE": target.kind,
        "SOAK_TARGET": target.target,
        "SOAK_NS": target.ns,
    }
    procs = []
    with open(log, "ab") as out:
        for _ in range(count):
            port = _free_port()
            args = [sys.executable, "-m", "uvicorn", "bench.soak:make_app", "--factory"]
            args += ["--port", str(port), "--host", "127.0.0.1", "--no-access-log"]
            args += ["--log-level", "warning"]
            proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
            procs.append((proc, f"http://127.0.0.1:{port}"))
    return procs


async def _wait_ready(urls: list[str]) -> None:
    import httpx

    async with httpx.AsyncClient(timeout=1) as client:
        for url in urls:
            for _ in range(200):
                try:
                    if (await client.get(url + "/health")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError(f"{url} did not start")


def _garbage() -> str:
    return random.choice(
        [
            "A" * 43,
            uuid.uuid4().hex,
            "not a token at all",
            "%ff%fe" * 10,
            "x" * 5000,
        ]
    )


async def _client(urls: list[str], deadline: float, budget: list[int], codes: Counter[str]) -> None:
    import httpx

    cookie: str | None = None
    async with httpx.AsyncClient(timeout=10) as client:
        while time.monotonic() < deadline and budget[0] > 0:
            budget[0] -= 1
            url = random.choice(urls)
            roll = random.random()
            headers = {"cookie": f"{COOKIE}={cookie}"} if cookie else {}
            if roll < 0.05:
                method, path, params = "GET", "/read", {}
                headers = {"cookie": f"{COOKIE}={_garbage()}"}
            elif roll < 0.15 or cookie is None:
                method, path, params = "POST", "/login", {"user": random.choice(USERS)}
            elif roll < 0.18:
                method, path, params = "POST", "/logout", {}
            elif roll < 0.23:
                cookie = None  # walks away: the session idles out in the store
                continue
            elif roll < 0.40:
                method, path, params = "POST", "/write", {}
            else:
                method, path, params = "GET", "/read", {}
            try:
                response = await client.request(method, url + path, params=params, headers=headers)
            except httpx.HTTPError as exc:
                codes[type(exc).__name__] += 1
                continue
            status = response.status_code
            codes["2xx" if status < 300 else str(status)] += 1
            for header in response.headers.get_list("set-cookie"):
                name, _, rest = header.partition("=")
                if name == COOKIE:
                    cookie = rest.split(";", 1)[0] or None


async def soak(kind: str, args: argparse.Namespace, tmp: Path) -> None:
    target = Target(kind, tmp)
    count = 1 if kind == "memory" else args.processes
    procs = _start(target, count, tmp / f"{kind}.log")
    try:
        await _wait_ready([url for _, url in procs])
        codes: Counter[str] = Counter()
        budget = [args.requests]
        started = time.monotonic()
        deadline = started + args.duration
        clients = [
            asyncio.create_task(_client([u for _, u in procs], deadline, budget, codes))
            for _ in range(args.concurrency)
        ]
        print(f"\n### {kind} ({count} process(es), {args.concurrency} clients)\n")
        print("| t (s) | requests | 5xx | client errors | RSS per process (MB) | store |")
        print("|---:|---:|---:|---:|---|---|")
        while not all(c.done() for c in clients):
            await asyncio.wait(clients, timeout=args.sample)
            done = sum(codes.values())
            errors = sum(v for k, v in codes.items() if not k[0].isdigit())
            failed = sum(v for k, v in codes.items() if k[0] == "5")
            rss = ", ".join(f"{_rss_mb(p.pid):.0f}" for p, _ in procs)
            size = await asyncio.to_thread(target.size)
            elapsed = time.monotonic() - started
            print(f"| {elapsed:.0f} | {done} | {failed} | {errors} | {rss} | {size} |")
        await asyncio.gather(*clients)
        print(f"\nanswers: {dict(sorted(codes.items()))}")
    finally:
        for proc, _ in procs:
            proc.terminate()
        for proc, _ in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        target.cleanup()
        log = (tmp / f"{kind}.log").read_text(errors="replace")
        if "Traceback" in log:
            print(f"\n{kind}: the app logged a traceback:\n{log[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", default="memory,sqlite,redis,postgres")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per store")
    parser.add_argument("--requests", type=int, default=200_000, help="at most, per store")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between samples")
    args = parser.parse_args()
    if not 0 < args.duration <= 3600 or args.requests < 1:
        parser.error("--duration must be in (0, 3600] seconds and --requests positive")
    tmp = Path(tempfile.mkdtemp(prefix="sessionward-soak-"))
    try:
        for kind in args.stores.split(","):
            asyncio.run(soak(kind.strip(), args, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
