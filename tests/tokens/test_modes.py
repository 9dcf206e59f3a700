"""The two verifier modes: strict (the session is read on every request) and revocation list
(a cached list from the token store, at most ``max_staleness`` seconds old)."""

from __future__ import annotations

import pytest

from sessionward import ConfigurationError
from sessionward.tokens import AccessSettings, InvalidToken, TokenPolicy

from .helpers import CLIENT, World, forge, good_claims

LIST_MODE = TokenPolicy(verify_mode="revocation_list", max_staleness=20)


def test_strict_mode_sees_a_logout_at_once() -> None:
    world = World()
    session = world.sessions.new_session(CLIENT)
    session.login("alice")
    pair = world.tokens.issue(session)
    assert world.tokens.verify(pair.access_token).session == session.handle
    session.logout()
    with pytest.raises(InvalidToken) as caught:
        world.tokens.verify(pair.access_token)
    assert caught.value.reason == "session"


def test_strict_mode_refuses_a_token_whose_subject_is_not_the_sessions_user() -> None:
    world = World()
    alice = world.tokens.login("alice", CLIENT)
    key = world.keys.signing_key
    header = {"alg": key.algorithm, "typ": "at+jwt", "kid": key.kid}
    claims = good_claims(world.clock, sid=alice.session, sub="mallory")
    with pytest.raises(InvalidToken) as caught:
        world.tokens.verify(forge(header, claims, key=key))
    assert caught.value.reason == "session"


def test_revocation_list_mode_does_not_read_the_session() -> None:
    world = World(policy=LIST_MODE)
    pair = world.tokens.login("alice", CLIENT)
    calls: list[str] = []
    original = world.session_store.get_by_handle

    def spy(handle: str):  # type: ignore[no-untyped-def]
        calls.append(handle)
        return original(handle)

    world.session_store.get_by_handle = spy  # type: ignore[method-assign]
    for _ in range(3):
        world.tokens.verify(pair.access_token)
    assert calls == []


def test_revocation_list_mode_honours_a_logout_within_the_staleness_bound() -> None:
    world = World(policy=LIST_MODE)
    session = world.sessions.new_session(CLIENT)
    session.login("alice")
    pair = world.tokens.issue(session)
    world.tokens.verify(pair.access_token)  # caches the (empty) list now
    session.logout()  # the RevocationSink lists the session in the token store
    world.clock.advance(19)
    assert world.tokens.verify(pair.access_token).subject == "alice"  # stale, within bound
    world.clock.advance(1)
    with pytest.raises(InvalidToken) as caught:
        world.tokens.verify(pair.access_token)
    assert caught.value.reason == "revoked"


def test_revocation_list_mode_sees_admin_revoke_user_and_revoke_all() -> None:
    world = World(policy=LIST_MODE)
    alice = world.tokens.login("alice", CLIENT)
    bob = world.tokens.login("bob", CLIENT)
    world.sessions.revoke_user("alice")
    world.clock.advance(20)
    with pytest.raises(InvalidToken):
        world.tokens.verify(alice.access_token)
    assert world.tokens.verify(bob.access_token).subject == "bob"
    world.sessions.revoke_all()
    world.clock.advance(20)
    with pytest.raises(InvalidToken):
        world.tokens.verify(bob.access_token)
    # Tokens issued after a revoke-all are fine.
    carol = world.tokens.login("carol", CLIENT)
    world.clock.advance(1)
    assert world.tokens.verify(carol.access_token).subject == "carol"


def test_revocation_list_entries_expire_with_the_tokens_they_guard() -> None:
    world = World(policy=LIST_MODE)
    pair = world.tokens.login("alice", CLIENT)
    world.sessions.revoke(pair.session)
    assert pair.session in world.token_store.revocations(world.clock.now()).sessions
    world.clock.advance(300 + 10)
    assert world.token_store.revocations(world.clock.now()).sessions == frozenset()
    world.token_store.purge_expired(world.clock.now())


def test_reuse_detection_feeds_the_revocation_list() -> None:
    world = World(policy=LIST_MODE)
    first = world.tokens.login("alice", CLIENT)
    second = world.tokens.refresh(first.refresh_token, CLIENT)
    world.clock.advance(30)
    with pytest.raises(Exception, match="already used"):
        world.tokens.refresh(first.refresh_token, CLIENT)
    with pytest.raises(InvalidToken):
        world.tokens.verify(second.access_token)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"verify_mode": "trusting"},
        {"max_staleness": 0},
        {"max_staleness": 3600},
        {"refresh_grace": -1},
        {"refresh_grace": 600},
        {"refresh_ttl": 0},
    ],
)
def test_policy_bounds(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        TokenPolicy(**kwargs)  # type: ignore[arg-type]


def test_access_settings_bounds() -> None:
    for kwargs in ({"ttl": 0}, {"ttl": 3600}, {"leeway": 120}, {"max_bytes": 10**6}):
        with pytest.raises(ConfigurationError):
            AccessSettings(issuer="i", audience="a", **kwargs)
    with pytest.raises(ConfigurationError):
        AccessSettings(issuer="", audience="a")
    assert AccessSettings(issuer="i", audience="a").ttl == 300
