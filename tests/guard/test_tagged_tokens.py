"""Session tokens carry a keyed tag: forgeries are told from genuine tokens with no store call."""

from __future__ import annotations

import base64
from typing import Any

from sessionward import ClientInfo, MemoryStore, SecretKeyRing, SessionManager
from sessionward.core.session_tokens import (
    TAGGED_LENGTH,
    TOKEN_LENGTH,
    Tag,
    check_tag,
    new_token,
    random_part,
    session_key,
    tag_token,
    token_key,
)
from sessionward.monitoring import EventKind, MemorySink
from sessionward.testing import FakeClock

NAME = "__Host-session"
HOME = ClientInfo(ip="203.0.113.9", user_agent="Firefox")


class CountingStore:
    def __init__(self, store: Any) -> None:
        self.inner = store
        self.gets = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)
        if name != "get":
            return method

        def get(*args: Any) -> Any:
            self.gets += 1
            return method(*args)

        return get


def _logged_in(manager: SessionManager) -> str:
    session = manager.load(None, HOME)
    session.login("alice")
    manager.commit(session)
    assert session.token is not None
    return session.token


def test_a_token_is_256_random_bits_and_a_tag_and_the_store_keeps_only_a_hash() -> None:
    keys = SecretKeyRing.generate()
    token = new_token(keys)
    assert len(token) == TAGGED_LENGTH
    assert len(base64.urlsafe_b64decode(random_part(token) + "=")) == 32
    assert check_tag(token, keys) is Tag.VALID
    assert check_tag(token, SecretKeyRing.generate()) is Tag.INVALID
    assert check_tag(token[:TOKEN_LENGTH], keys) is Tag.ABSENT
    assert session_key(token) == token_key(random_part(token))


def test_rotated_keys_still_verify_older_tags() -> None:
    old, new = SecretKeyRing.generate(), SecretKeyRing.generate()
    token = new_token(old)
    both = SecretKeyRing([*old, *new])
    assert check_tag(token, both) is Tag.VALID
    assert check_tag(tag_token(token, both), new) is Tag.VALID


def test_a_forged_tag_is_refused_without_a_store_call(clock: FakeClock) -> None:
    sink = MemorySink()
    store = CountingStore(MemoryStore())
    manager = SessionManager(store, clock=clock, sinks=[sink], token_keys=SecretKeyRing.generate())
    forged = new_token(SecretKeyRing.generate())
    assert manager.load(f"{NAME}={forged}", HOME).user_id is None
    assert store.gets == 0
    assert [e.reason for e in sink.events if e.kind is EventKind.MALFORMED_ID] == ["tag"]


def test_instances_sharing_a_key_ring_share_sessions(clock: FakeClock) -> None:
    store, keys = MemoryStore(), SecretKeyRing.generate()
    one = SessionManager(store, clock=clock, sinks=[], token_keys=keys)
    two = SessionManager(store, clock=clock, sinks=[], token_keys=keys)
    token = _logged_in(one)
    assert two.load(f"{NAME}={token}", HOME).user_id == "alice"


def test_without_a_key_ring_a_tag_from_another_process_still_works(clock: FakeClock) -> None:
    store = MemoryStore()
    one = SessionManager(store, clock=clock, sinks=[])
    two = SessionManager(store, clock=clock, sinks=[])
    token = _logged_in(one)
    assert two.load(f"{NAME}={token}", HOME).user_id == "alice"


def test_untagged_tokens_issued_before_tags_keep_working(clock: FakeClock) -> None:
    manager = SessionManager(
        MemoryStore(), clock=clock, sinks=[], token_keys=SecretKeyRing.generate()
    )
    token = _logged_in(manager)
    legacy = random_part(token)  # a 43-character token keys the same record
    assert manager.load(f"{NAME}={legacy}", HOME).user_id == "alice"


def test_an_ended_genuine_token_is_recorded_as_issued(clock: FakeClock) -> None:
    sink = MemorySink()
    manager = SessionManager(MemoryStore(), clock=clock, sinks=[sink])
    token = _logged_in(manager)
    manager.load(f"{NAME}={token}", HOME).logout()
    manager.load(f"{NAME}={token}", HOME)
    manager.load(f"{NAME}={new_token()}", HOME)
    unknown = [e.detail["issued"] for e in sink.events if e.kind is EventKind.UNKNOWN_ID]
    assert unknown == [True, False]


def test_without_a_key_ring_an_unknown_token_is_issued_only_if_its_tag_is_ours(
    clock: FakeClock,
) -> None:
    # Without a ring the tag is checked only when the lookup finds nothing; it still decides.
    sink = MemorySink()
    manager = SessionManager(MemoryStore(), clock=clock, sinks=[sink])
    ours = tag_token(new_token(), manager.flows.token_keys)
    theirs = tag_token(new_token(), SecretKeyRing.generate())
    for token in (ours, theirs):
        assert manager.load(f"{NAME}={token}", HOME).record is None
    unknown = [e.detail["issued"] for e in sink.events if e.kind is EventKind.UNKNOWN_ID]
    assert unknown == [True, False]
