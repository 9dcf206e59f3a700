"""The Redis stores on a real Redis Cluster: the whole store contract, sync and async.

Every key of a store shares one hash tag, so every Lua script touches one slot; on a cluster a
script that touched two slots would fail with CROSSSLOT. The test starts three masters of its
own on free ports and tears them down afterwards.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import require_service
from contract import test_store_contract, test_store_renewal
from contract.adapters import Blocking

from .harness import PrivateRedisCluster

# The contract's tests, collected here again to run against the cluster-backed stores below.
CONTRACT = {
    name: test
    for module in (test_store_contract, test_store_renewal)
    for name, test in vars(module).items()
    if name.startswith("test_")
}
globals().update(CONTRACT)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedisCluster]:
    require_service("redis-server binary", None if shutil.which("redis-server") else "missing")
    nodes = PrivateRedisCluster(tmp_path_factory.mktemp("cluster"))
    try:
        nodes.start()
        yield nodes
    finally:
        nodes.stop()


@pytest.fixture(params=["sync", "async", "sync-buckets", "async-buckets"])
def store(request: pytest.FixtureRequest, cluster: PrivateRedisCluster) -> Iterator[Any]:
    prefix = f"cl_{uuid.uuid4().hex[:8]}"  # a fresh prefix: a different slot per test
    # With buckets a store's sessions spread over all three masters; every script must still
    # touch one slot only (Redis refuses a script on keys of another node).
    buckets = 64 if request.param.endswith("-buckets") else 1
    port = cluster.ports[0]
    if request.param.startswith("sync"):
        import redis

        from sessionward.stores.redis import RedisStore

        client = redis.RedisCluster(host="127.0.0.1", port=port)
        s: Any = RedisStore(client, prefix=prefix, buckets=buckets)
    else:
        import redis.asyncio

        from sessionward.stores.redis import AsyncRedisStore

        client = redis.asyncio.RedisCluster(host="127.0.0.1", port=port)
        s = Blocking(AsyncRedisStore(client, prefix=prefix, buckets=buckets))
    yield s
    s.delete_all()
    if request.param.startswith("sync"):
        s.close()
        s.client.close()  # an injected client belongs to the caller
    else:
        s._runner.run(client.aclose())
        s.close()


def test_keys_of_one_store_share_one_slot() -> None:
    from redis.crc import key_slot

    from sessionward.stores.redis import _Layout

    layout = _Layout("myapp")
    names = [layout.skey("a" * 64), layout.hkey("h"), layout.ukey("user}{x")]
    assert len({key_slot(name.encode()) for name in names}) == 1


def test_contract_tests_were_collected() -> None:
    assert len(CONTRACT) >= 20


@pytest.mark.parametrize("buckets", [1, 64])
def test_one_store_spreads_over_every_master_only_with_buckets(
    cluster: PrivateRedisCluster, buckets: int
) -> None:
    import redis

    from sessionward import ClientInfo, SessionManager
    from sessionward.stores.redis import RedisStore

    client = redis.RedisCluster(host="127.0.0.1", port=cluster.ports[0])
    store = RedisStore(client, prefix=f"spread_{uuid.uuid4().hex[:8]}", buckets=buckets)
    manager = SessionManager(store, sinks=())
    nodes = [redis.Redis(host="127.0.0.1", port=port) for port in cluster.ports]
    before = [node.dbsize() for node in nodes]
    try:
        for i in range(60):
            session = manager.load(None, ClientInfo.from_raw("192.0.2.1", "Firefox/130"))
            session.login(f"user{i}")
            manager.commit(session)
        added = [node.dbsize() - b for node, b in zip(nodes, before, strict=True)]
        assert sum(added) == 60 * 3  # a session, its handle and its user's index each
        holding = sum(1 for n in added if n > 0)
        assert holding == (3 if buckets > 1 else 1), added
        assert len(store.list_all()) == 60
    finally:
        store.delete_all()
        client.close()
        for node in nodes:
            node.close()
