"""Real server processes for the distributed tests: uvicorn apps and private Redis/PostgreSQL.

Every process is started by the test that needs it, polled until ready within a bounded time,
and stopped (then killed if it lingers) when the test ends, pass or fail. The machine's shared
Redis and PostgreSQL are never stopped: fault tests start their own on a free port.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

from .services import free_port

TESTS = Path(__file__).resolve().parent.parent
COOKIE = "__Host-session"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _wait_until(ready: object, what: str, proc: subprocess.Popen[bytes], limit: float = 20) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before it was ready")
        if ready():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} not ready within {limit}s")


class AppServer:
    def __init__(self, port: int, proc: subprocess.Popen[bytes]) -> None:
        self.port = port
        self.proc = proc
        self.url = f"http://127.0.0.1:{port}"


def _http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def app_server(env: Mapping[str, str], log: Path) -> Iterator[AppServer]:
    """One uvicorn process (one worker) running ``distributed.app``."""
    port = free_port()
    full_env = {**os.environ, "PYTHONPATH": str(TESTS), **env}
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "distributed.app:app", "--port", str(port)),
                *("--host", "127.0.0.1", "--no-access-log", "--log-level", "warning"),
            ],
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until(lambda: _http_ok(f"http://127.0.0.1:{port}/health"), "uvicorn", proc)
        yield AppServer(port, proc)
    finally:
        _stop(proc)


@contextlib.contextmanager
def app_servers(env: Mapping[str, str], log: Path, count: int = 2) -> Iterator[list[AppServer]]:
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(app_server(env, log)) for _ in range(count)]


def client(**options: Any) -> httpx.AsyncClient:
    """An HTTP client that never keeps cookies: each test sends the session cookie itself."""
    jar = http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return httpx.AsyncClient(cookies=jar, **options)


def session_cookie(response: httpx.Response) -> str | None:
    """The session token a response set, '' when it cleared the cookie, None if untouched."""
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name == COOKIE:
            value = rest.split(";", 1)[0]
            return value
    return None


def cookie_header(token: str) -> dict[str, str]:
    return {"cookie": f"{COOKIE}={token}"}


class PrivateRedis:
    """A redis-server of our own on a free port, with its data dir in ``tmp``."""

    def __init__(self, tmp: Path) -> None:
        self.dir = tmp
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--dir", str(self.dir), "--save", "3600 1", "--appendonly", "no"]
        self.proc = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.dir
        )
        _wait_until(self._ping, "private redis-server", self.proc)

    def _ping(self) -> bool:
        import redis

        try:
            client = redis.Redis(port=self.port, socket_timeout=0.5)
            ok = bool(client.ping())
            client.close()
            return ok
        except redis.RedisError:
            return False

    def stop(self) -> None:
        # SIGTERM: Redis saves its RDB on shutdown, so sessions survive the restart.
        if self.proc is not None:
            _stop(self.proc)
            self.proc = None


class PrivatePostgres:
    """A PostgreSQL cluster of our own (initdb in ``tmp``), run as the postgres OS user when
    the tests run as root (PostgreSQL refuses to run as root)."""

    def __init__(self) -> None:
        # Not under pytest's tmp_path: its parents are private to root, and the server runs
        # as another user.
        tmp = Path(tempfile.mkdtemp(prefix="sessionward-pg-"))
        self.tmp = tmp
        self.dir = tmp / "pgdata"
        self.sock = tmp
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.proc: subprocess.Popen[bytes] | None = None
        self._user: str | None = None
        if os.geteuid() == 0:
            self._user = "postgres"
            shutil.chown(tmp, "postgres")
        self.log = tmp / "postgres.log"

    @staticmethod
    def problem() -> str | None:
        for tool in ("initdb", "postgres"):
            if shutil.which(tool) is None:
                return f"{tool} is not on PATH"
        return None

    def init(self) -> None:
        subprocess.run(
            ["initdb", "-D", str(self.dir), "-U", "postgres", "-A", "trust", "--no-sync"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
            user=self._user,
        )

    def start(self) -> None:
        args = ["postgres", "-D", str(self.dir), "-p", str(self.port)]
        args += ["-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.sock}"]
        args += ["-c", "fsync=off"]
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, user=self._user
            )
        _wait_until(self._ready, "private postgres", self.proc, limit=30)

    def _ready(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.url, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def stop(self) -> None:
        if self.proc is not None:
            # SIGTERM is a "smart" shutdown that waits for clients; SIGINT is a fast one.
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            self.proc = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def _cluster_ports(count: int) -> list[int]:
    """Ports whose cluster-bus twin (port + 10000) is also free and below 65536."""
    rng = random.Random()
    found: list[int] = []
    while len(found) < count:
        port = rng.randrange(20000, 30000)
        if port in found:
            continue
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 10000))
        except OSError:
            continue
        found.append(port)
    return found


class PrivateRedisCluster:
    """Three redis-server masters in cluster mode on free ports, with data dirs in ``tmp``."""

    def __init__(self, tmp: Path, nodes: int = 3) -> None:
        self.dir = tmp
        self.ports = _cluster_ports(nodes)
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        for port in self.ports:
            node_dir = self.dir / str(port)
            node_dir.mkdir()
            args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1"]
            args += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
            args += ["--save", "", "--appendonly", "no"]
            self.procs.append(
                subprocess.Popen(
                    args, cwd=node_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
            )
        for proc, port in zip(self.procs, self.ports, strict=True):
            _wait_until(lambda port=port: self._info(port) is not None, "cluster node", proc)
        subprocess.run(
            [
                *("redis-cli", "--cluster", "create"),
                *(f"127.0.0.1:{p}" for p in self.ports),
                *("--cluster-replicas", "0", "--cluster-yes"),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )
        for proc, port in zip(self.procs, self.ports, strict=True):
            _wait_until(lambda port=port: self._info(port) == "ok", "cluster state", proc)

    @staticmethod
    def _info(port: int) -> str | None:
        import redis

        try:
            client = redis.Redis(port=port, socket_timeout=0.5)
            info = client.execute_command("CLUSTER", "INFO")
            client.close()
        except redis.RedisError:
            return None
        text = info.decode() if isinstance(info, bytes) else str(info)
        for line in text.splitlines():
            if line.startswith("cluster_state:"):
                return line.split(":", 1)[1].strip()
        return "unknown"

    def stop(self) -> None:
        for proc in self.procs:
            _stop(proc)
        self.procs = []
