"""Redis Cluster: does the Redis side of the per-request work spread over 1, 2 and 3 masters?

    .venv/bin/python bench/cluster.py                 # 3 interleaved rounds of 3 s cells, ~2 min
    .venv/bin/python bench/cluster.py --rounds 1 --seconds 2

Starts its own clusters of 1, 2 and 3 masters (redis-server on 127.0.0.1 ports 7101-7106, data
in a temp dir, stopped at the end, whatever happens) and drives each with ``--workers`` client
processes. Each worker repeats what a read+write request asks of the store, for a batch of
sessions at once: the ``HGETALL`` of ``get``, then the store's ``UPDATE`` script (one data key
set), pipelined per node through redis-py's ``RedisCluster``. Layouts:

* ``one store``: the default layout (``buckets=1``), one prefix: every key shares one hash
  tag, hence one slot.
* ``6 stores``: the default layout, six prefixes whose tags fall in six different sixths of
  the slot space (six apps or tenants on one cluster).
* ``64 buckets``: one store with ``buckets=64`` (docs/stores.md): its sessions spread over 64
  hash tags, key names exactly as ``RedisStore(..., buckets=64)`` writes them.

Reported per cell: requests (get+update pairs) per second; the Redis CPU per pair (user+sys of
every node, from ``INFO cpu``); and *capacity*, pairs per CPU-second of the busiest node: what
the cluster could carry once that node saturates. On a 2-core machine the Python clients use
most of the CPU, so measured req/s cannot grow much; capacity shows whether work spreads.
Nothing here is a test; no speed is asserted anywhere.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from redis.crc import key_slot

from sessionward.stores import RecordUpdate
from sessionward.stores import _redis_lua as lua
from sessionward.stores.redis import _Layout

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- cluster:start -->", "<!-- cluster:end -->"
SIZES = {1: [7101], 2: [7102, 7103], 3: [7104, 7105, 7106]}
SLOTS = 16384
LAYOUTS = ("one store", "6 stores", "64 buckets")
SESSIONS = 3000


class Cluster:
    """``len(ports)`` masters, slots split evenly, no replicas."""

    def __init__(self, tmp: Path, ports: list[int]) -> None:
        self.tmp, self.ports = tmp, ports
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        for port in self.ports:
            data = self.tmp / str(port)
            data.mkdir()
            args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1"]
            args += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
            args += ["--save", "", "--appendonly", "no", "--protected-mode", "yes"]
            self.procs.append(
                subprocess.Popen(
                    args, cwd=data, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
            )
        nodes = [self.node(p) for p in self.ports]
        self._wait(lambda: all(self._ping(n) for n in nodes))
        n = len(self.ports)
        for i, node in enumerate(nodes):
            node.execute_command("CLUSTER ADDSLOTSRANGE", i * SLOTS // n, (i + 1) * SLOTS // n - 1)
            if i:
                node.execute_command("CLUSTER MEET", "127.0.0.1", self.ports[0])
        self._wait(lambda: all(self._ok(node, n) for node in nodes))
        for node in nodes:
            node.close()

    @staticmethod
    def node(port: int) -> redis.Redis:
        return redis.Redis(port=port, socket_timeout=2)

    @staticmethod
    def _ping(node: redis.Redis) -> bool:
        try:
            return bool(node.ping())
        except redis.RedisError:
            return False

    @staticmethod
    def _ok(node: redis.Redis, n: int) -> bool:
        info = node.execute_command("CLUSTER INFO")  # parsed into a dict by redis-py
        return info.get("cluster_state") == "ok" and info.get("cluster_known_nodes") == str(n)

    @staticmethod
    def _wait(done: Any) -> None:
        deadline = time.monotonic() + 30
        while not done():
            if time.monotonic() > deadline:
                raise SystemExit("cluster did not come up")
            time.sleep(0.1)

    def cpu(self) -> list[float]:
        out = []
        for port in self.ports:
            node = self.node(port)
            info = node.info("cpu")
            node.close()
            out.append(float(info["used_cpu_user"]) + float(info["used_cpu_sys"]))
        return out

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs = []


def spread_prefixes(count: int) -> list[str]:
    """Prefixes whose hash tags fall in ``count`` equal parts of the slot space, in order."""
    found: dict[int, str] = {}
    i = 0
    while len(found) < count:
        name = f"app{i}"
        part = key_slot(("{" + name + "}").encode()) * count // SLOTS
        found.setdefault(part, name)
        i += 1
    return [found[p] for p in range(count)]


def session_names(layout: str) -> list[tuple[str, str, str]]:
    """(session key, hash name, tag argument) for each bench session of ``layout``."""
    from sessionward.core.session_tokens import token_key

    prefixes = {"one store": ["app"], "6 stores": spread_prefixes(6)}.get(layout, ["sw"])
    out = []
    for i in range(SESSIONS):
        key = token_key(f"cluster-bench-{i}")
        names = _Layout(prefixes[i % len(prefixes)], 64 if layout == "64 buckets" else 1)
        out.append((key, names.skey(key), names.key_tag(key)))
    return out


def populate(port: int, layout: str) -> None:
    from sessionward.core.session_tokens import new_handle
    from sessionward.stores import SessionRecord

    client = redis.RedisCluster(host="127.0.0.1", port=port)
    now = time.time()
    pipe = client.pipeline()
    for key, name, _ in session_names(layout):
        record = SessionRecord(
            key=key,
            handle=new_handle(),
            user_id=None,
            created_at=now,
            last_seen_at=now,
            expires_at=now + 3600,
            data={"n": 0, "user": "alice", "theme": "dark"},
            meta={"csrf": "x" * 43},
        )
        pipe.hset(name, mapping=dict(zip(*[iter(lua.encode_record(record))] * 2, strict=True)))
        pipe.pexpireat(name, lua.expiry_ms(record.expires_at))
    pipe.execute()
    client.close()


def by_node(client: redis.RedisCluster, chosen: list[tuple[str, str, str]]) -> dict[Any, list[Any]]:
    groups: dict[Any, list[Any]] = {}
    for item in chosen:
        groups.setdefault(client.get_node_from_key(item[1]).name, []).append(item)
    return groups


def worker(port: int, layout: str, seconds: float, batch: int, done: Any) -> None:
    """Batches of get+update pairs; each node gets its share as one pipeline per command.

    redis-py's cluster pipeline refuses ``EVALSHA``, so the batch is split by node here and
    sent on that node's own connection (what a cluster client does for single-slot calls).
    """
    client = redis.RedisCluster(host="127.0.0.1", port=port)
    sha = client.script_load(lua.UPDATE)
    nodes = {node.name: node.redis_connection for node in client.get_primaries()}
    names = session_names(layout)
    pairs, j, started = 0, 0, time.monotonic()
    while time.monotonic() < started + seconds:
        chosen = [names[(j * batch + k) * 7919 % len(names)] for k in range(batch)]
        groups = by_node(client, chosen)
        for node, items in groups.items():
            pipe = nodes[node].pipeline(transaction=False)
            for _, name, _ in items:
                pipe.hgetall(name)
            pipe.execute()
        for node, items in groups.items():
            pipe = nodes[node].pipeline(transaction=False)
            for key, name, tag in items:
                args = [tag, *lua.encode_update(key, RecordUpdate(set_data={"n": j}))]
                pipe.evalsha(sha, 1, name, *args)
            pipe.execute()
        pairs += batch
        j += 1
    done.put((pairs, pairs / (time.monotonic() - started)))  # its rate excludes start-up
    client.close()


@dataclass
class Cell:
    masters: int
    layout: str
    rps: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)  # all nodes' CPU per pair
    busiest: list[float] = field(default_factory=list)  # busiest node's share of the CPU
    capacity: list[float] = field(default_factory=list)  # pairs per busiest-node CPU-second


def run_cell(cluster: Cluster, cell: Cell, workers: int, seconds: float, batch: int) -> None:
    ctx = mp.get_context("fork")
    done = ctx.Queue()
    before = cluster.cpu()
    procs = [
        ctx.Process(target=worker, args=(cluster.ports[0], cell.layout, seconds, batch, done))
        for _ in range(workers)
    ]
    for proc in procs:
        proc.start()
    results = [done.get(timeout=seconds + 60) for _ in procs]
    for proc in procs:
        proc.join()
    used = [a - b for a, b in zip(cluster.cpu(), before, strict=True)]
    total = sum(pairs for pairs, _ in results)
    cell.rps.append(sum(rate for _, rate in results))
    cell.cpu_us.append(sum(used) / total * 1e6)
    cell.busiest.append(max(used) / sum(used))
    cell.capacity.append(total / max(used))


def table(cells: list[Cell], header: str) -> str:
    lines = [
        header,
        "",
        "| masters | layout | get+update pairs/s | x 1 master | Redis CPU us / pair "
        "| busiest node's share | capacity (pairs / busiest-node CPU s) | x 1 master |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    base: dict[str, Cell] = {c.layout: c for c in cells if c.masters == 1}
    for c in sorted(cells, key=lambda c: (LAYOUTS.index(c.layout), c.masters)):
        b = base[c.layout]
        rps, cap = statistics.median(c.rps), statistics.median(c.capacity)
        lines.append(
            f"| {c.masters} | {c.layout} | {rps:,.0f} | {rps / statistics.median(b.rps):.2f} "
            f"| {statistics.median(c.cpu_us):.1f} | {statistics.median(c.busiest):.0%} "
            f"| {cap:,.0f} | {cap / statistics.median(b.capacity):.2f} |"
        )
    return "\n".join(lines)


def write_docs(path: Path, text: str) -> None:
    doc = path.read_text()
    if START not in doc:
        doc = doc.rstrip("\n") + f"\n\n## Redis Cluster\n\n{START}\n{END}\n"
    head, rest = doc.split(START, 1)
    path.write_text(f"{head}{START}\n{text}\n{END}{rest.split(END, 1)[1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0, help="per cell")
    parser.add_argument("--workers", type=int, default=3, help="client processes per cell")
    parser.add_argument("--batch", type=int, default=50, help="sessions per pipelined batch")
    parser.add_argument("--output", default=str(ROOT / "docs/benchmarks.md"))
    parser.add_argument("--no-docs", action="store_true", help="print the table only")
    opts = parser.parse_args()
    started = time.perf_counter()
    cells = [Cell(n, layout) for n in SIZES for layout in LAYOUTS]
    with tempfile.TemporaryDirectory(prefix="sw-cluster-") as tmp:
        clusters = {n: Cluster(Path(tmp), ports) for n, ports in SIZES.items()}
        try:
            for cluster in clusters.values():
                cluster.start()
                for layout in LAYOUTS:
                    populate(cluster.ports[0], layout)
            for r in range(opts.rounds):  # interleaved: every cell once, then again
                for cell in cells:
                    run_cell(clusters[cell.masters], cell, opts.workers, opts.seconds, opts.batch)
                print(f"  round {r + 1} done")
        finally:
            for cluster in clusters.values():
                cluster.stop()
    header = (
        f"_Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {opts.rounds} interleaved "
        f"rounds of {opts.seconds:g} s per cell, {opts.workers} client processes, batches of "
        f"{opts.batch}, median round shown; {os.cpu_count()} CPUs, 1-minute load average at "
        f"the end {os.getloadavg()[0]:.1f}; {time.perf_counter() - started:.0f} s in all._"
    )
    text = table(cells, header)
    print(text)
    if not opts.no_docs:
        write_docs(Path(opts.output), text)


if __name__ == "__main__":
    main()
