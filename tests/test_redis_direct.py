"""The sync Redis store's direct per-request commands (``stores/_redis_direct.py``).

The store contract runs over them already (``RedisStore(url=...)`` uses them); these check the
failure rules: an unknown script falls back to ``EVAL``, a connection Redis closed is reopened,
a dead server is a ``StoreUnavailable`` (503) and never a hang, a fork drops the parent's
connections, and threads never share one.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid

import pytest

from conftest import require_service
from distributed.services import REDIS_URL, redis_problem
from sessionward.errors import StoreUnavailable


@pytest.fixture
def store():  # type: ignore[no-untyped-def]
    require_service("redis", redis_problem())
    from sessionward.stores.redis import RedisStore

    made = RedisStore(url=REDIS_URL, prefix=f"swtest_direct_{uuid.uuid4().hex[:12]}")
    yield made
    made.delete_all()
    made.close()


def test_url_store_uses_direct_commands(store) -> None:  # type: ignore[no-untyped-def]
    assert store._direct is not None
    assert store.get("0" * 64) is None


def test_injected_client_and_retries_keep_the_client() -> None:
    require_service("redis", redis_problem())
    import redis

    from sessionward.stores.redis import RedisStore

    client = redis.Redis.from_url(REDIS_URL)
    assert RedisStore(client, prefix="swtest_direct_injected")._direct is None
    assert RedisStore(url=REDIS_URL, prefix="swtest_direct_r", retries=1)._direct is None
    client.close()


def test_unknown_script_falls_back_to_eval(store) -> None:  # type: ignore[no-untyped-def]
    source = f"return '{uuid.uuid4().hex}'"  # never loaded: EVALSHA answers NOSCRIPT
    assert store._direct.script(source, ["k"], []) == source[8:-1]  # text, decoded by hiredis
    assert store._direct.script(source, ["k"], []) == source[8:-1]  # now cached


def test_a_connection_redis_closed_is_reopened(store) -> None:  # type: ignore[no-untyped-def]
    import redis

    direct = store._direct
    client_id = direct.call("CLIENT", "ID")
    admin = redis.Redis.from_url(REDIS_URL)
    admin.client_kill_filter(_id=client_id)
    admin.close()
    assert direct.call("PING") in (b"PONG", "PONG")  # no StoreUnavailable for the idle kill


def test_a_dead_server_is_store_unavailable() -> None:
    from sessionward.stores.redis import RedisStore

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = RedisStore(url=f"redis://127.0.0.1:{port}/0", prefix="swtest_direct_dead")
    with pytest.raises(StoreUnavailable):
        dead.get("0" * 64)


def test_after_a_fork_the_parents_connections_are_dropped(store) -> None:  # type: ignore[no-untyped-def]
    direct = store._direct
    direct.call("PING")
    assert direct._idle
    direct._pid = os.getpid() + 1  # as a forked child sees it
    direct.call("PING")
    assert len(direct._idle) == 1 and direct._pid == os.getpid()


def test_threads_never_share_a_connection(store) -> None:  # type: ignore[no-untyped-def]
    # Each thread increments a counter and expects its own reply: a connection shared by two
    # threads would hand one thread the other's answer (or a torn one).
    direct = store._direct
    key = f"{store._layout.tag}t:{uuid.uuid4().hex}"
    replies: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def work() -> None:
        try:
            barrier.wait()
            for _ in range(50):
                replies.append(direct.call("INCR", key))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    direct.call("DEL", key)
    assert not errors
    assert sorted(replies) == list(range(1, 201))
    assert len(direct._idle) <= 4
