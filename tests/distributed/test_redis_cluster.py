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


@pytest.fixture(params=["sync", "async"])
def store(request: pytest.FixtureRequest, cluster: PrivateRedisCluster) -> Iterator[Any]:
    prefix = f"cl_{uuid.uuid4().hex[:8]}"  # a fresh prefix: a different slot per test
    port = cluster.ports[0]
    if request.param == "sync":
        import redis

        from sessionward.stores.redis import RedisStore

        s: Any = RedisStore(redis.RedisCluster(host="127.0.0.1", port=port), prefix=prefix)
    else:
        import redis.asyncio

        from sessionward.stores.redis import AsyncRedisStore

        client = redis.asyncio.RedisCluster(host="127.0.0.1", port=port)
        s = Blocking(AsyncRedisStore(client, prefix=prefix))
    yield s
    s.delete_all()
    if request.param == "sync":
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
