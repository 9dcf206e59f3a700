"""A Redis store with ``buckets``: the session flows through SessionManager on a real Redis.

Every key of a session lands in its bucket's hash tag (``{prefix#b}``), every script touches
one tag, and the flows that move a session between buckets (a login leaving an anonymous
session) still leave no live trace of the old one. The whole store contract runs on such a
store too (``contract/stores.py``, ``redis-buckets``), and on a real Redis Cluster
(``test_redis_cluster.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import require_service
from sessionward import ClientInfo, ConfigurationError, SessionManager, SessionPolicy
from sessionward.core.session_tokens import session_key
from sessionward.testing import FakeClock

from .services import REDIS_URL, redis_problem

CLIENT = ClientInfo.from_raw("192.0.2.1", "Firefox/130")
BUCKETS = 16


@pytest.fixture
def store() -> Iterator[Any]:
    require_service("redis", redis_problem())
    from sessionward.stores.redis import RedisStore

    s = RedisStore(url=REDIS_URL, prefix=f"swb_{uuid.uuid4().hex[:10]}", buckets=BUCKETS)
    yield s
    s.delete_all()
    s.close()


@pytest.fixture
def manager(store: Any, clock: FakeClock) -> SessionManager:
    policy = SessionPolicy(max_sessions_per_user=2, renew_interval=300, renewal_grace=10)
    return SessionManager(store, policy=policy, clock=clock, sinks=())


def token_of(headers: list[tuple[str, str]]) -> str | None:
    for name, value in headers:
        if name == "set-cookie":
            return value.split(";", 1)[0].split("=", 1)[1] or None
    return None


def request(manager: SessionManager, token: str | None) -> Any:
    return manager.load(None if token is None else f"__Host-session={token}", CLIENT)


def tags_of(store: Any) -> dict[str, str]:
    """Every key of the store in Redis, with the hash tag it carries."""
    prefix = store._layout.prefix
    names = [n.decode() for n in store.client.scan_iter(match="{" + prefix + "#*")]
    return {name: name[1 : name.index("}")] for name in names}


def test_a_users_sessions_index_and_handles_share_the_users_bucket(
    manager: SessionManager, store: Any
) -> None:
    anonymous = request(manager, None)
    anonymous["cart"] = ["book"]
    anon_token = token_of(manager.commit(anonymous))
    tokens = []
    for _ in range(2):
        session = request(manager, anon_token if not tokens else None)
        session.login("alice")
        tokens.append(token_of(manager.commit(session)))
    prefix = store._layout.prefix
    bucket = f"{prefix}#{store.placement.of_text('alice')}"
    # Two sessions, two handles and the index: all in alice's bucket, nothing else left.
    assert sorted(tags_of(store).values()) == [bucket] * 5
    assert request(manager, anon_token).user_id is None  # the anonymous token died at login
    first = request(manager, tokens[0])
    assert (first.user_id, first["cart"]) == ("alice", ["book"])
    assert len(manager.sessions_of("alice")) == 2


def test_rotation_renewal_limit_and_logout_everywhere_keep_working(
    manager: SessionManager, store: Any, clock: FakeClock
) -> None:
    def login() -> str:
        session = request(manager, None)
        session.login("alice")
        token = token_of(manager.commit(session))
        assert token
        return token

    first, second = login(), login()
    session = request(manager, second)
    manager.rotate(session)
    rotated = token_of(manager.commit(session))
    assert rotated and rotated != second and request(manager, second).user_id is None

    clock.advance(301)  # renewal due: the successor is drawn in alice's bucket
    renewed = token_of(manager.commit(request(manager, rotated)))
    assert renewed and renewed != rotated
    assert store.placement.of_key(session_key(renewed)) == store.placement.of_text("alice")

    third = login()  # the limit of 2 evicts the oldest (first)
    assert request(manager, first).user_id is None
    handles = {info.handle for info in manager.sessions_of("alice")}
    assert len(handles) == 2
    assert manager.logout_everywhere(request(manager, third)) == 2  # this one and the other
    assert request(manager, renewed).user_id is None
    assert request(manager, third).user_id is None


def test_revoke_by_handle_finds_the_session_in_its_bucket(manager: SessionManager) -> None:
    session = request(manager, None)
    session.login("bob")
    token = token_of(manager.commit(session))
    [info] = manager.sessions_of("bob")
    assert manager.revoke(info.handle)
    assert request(manager, token).user_id is None


def test_a_wrapper_that_hides_the_placement_fails_loudly_instead_of_misplacing(
    store: Any, clock: FakeClock
) -> None:
    class Wrapper:  # passes every method on, but not .placement
        def __init__(self, inner: Any) -> None:
            self._inner = inner

        def __getattr__(self, name: str) -> Any:
            if name == "placement":
                raise AttributeError(name)
            return getattr(self._inner, name)

    manager = SessionManager(Wrapper(store), clock=clock, sinks=())
    session = request(manager, None)
    with pytest.raises(ConfigurationError, match=r"pass on its \.placement"):
        session.login("carol")
    assert store.list_all() == []


@pytest.mark.parametrize("buckets", [0, 3, 100, 2048])
def test_a_bucket_count_that_is_no_power_of_two_up_to_1024_fails_at_start_up(
    buckets: int,
) -> None:
    from sessionward.stores.redis import AsyncRedisStore, RedisStore

    for kind in (RedisStore, AsyncRedisStore):
        with pytest.raises(ConfigurationError, match=r"power of two.*or 1 \(the default\)"):
            kind(url=REDIS_URL, buckets=buckets)


def test_a_fault_between_the_two_steps_of_a_login_leaves_the_old_session_as_it_was(
    store: Any, clock: FakeClock
) -> None:
    """The login that leaves an anonymous session of another bucket: the new session is
    written, then the connection fails before the old one is deleted. The login fails (503),
    the visitor keeps the anonymous session, and the new one (no client holds it) is gone."""
    import redis

    from sessionward.errors import StoreUnavailable

    failures = {"DELETE": 1}
    real_script = store._script

    def flaky_script(name: str, keys: list[str], args: list[Any]) -> Any:
        if failures.get(name):
            failures[name] -= 1
            raise redis.ConnectionError("connection lost")
        return real_script(name, keys, args)

    store._script = flaky_script
    manager = SessionManager(store, clock=clock, sinks=())
    placement = store.placement
    while True:  # an anonymous session outside dave's bucket
        anonymous = request(manager, None)
        anonymous["cart"] = ["book"]
        token = token_of(manager.commit(anonymous))
        assert token and anonymous.record is not None
        if placement.of_key(anonymous.record.key) != placement.of_text("dave"):
            break
    session = request(manager, token)
    with pytest.raises(StoreUnavailable):
        session.login("dave")
    assert failures["DELETE"] == 0  # the fault struck between the two steps
    again = request(manager, token)
    assert (again.user_id, again["cart"]) == (None, ["book"])
    assert manager.sessions_of("dave") == []
