"""Refresh tokens: hashed at rest, bound to a session, rotated on use, reuse revokes the family,
and concurrent tabs inside the grace window share one successor."""

from __future__ import annotations

import pytest

from sessionward import SessionPolicy
from sessionward.core.session_tokens import token_key
from sessionward.testing import events
from sessionward.tokens import InvalidGrant, InvalidToken, RefreshCookie, TokenPolicy
from sessionward.tokens.refresh import RefreshRecord, seal, unseal

from .helpers import CLIENT, AsyncWorld, World


@pytest.fixture
def world() -> World:
    return World()


def test_refresh_token_is_opaque_256_bits_and_stored_only_as_a_hash(world: World) -> None:
    pair = world.tokens.login("alice", CLIENT)
    assert pair.refresh_token.startswith("swrt_") and len(pair.refresh_token) == 5 + 43
    assert pair.refresh_token.count(".") == 0
    stored = world.token_store.get(token_key(pair.refresh_token))
    assert stored is not None and stored.session == pair.session and stored.user_id == "alice"
    dump = repr(world.token_store.__dict__)
    assert pair.refresh_token not in dump
    assert pair.refresh_token[5:] not in dump


def test_every_use_rotates(world: World) -> None:
    first = world.tokens.login("alice", CLIENT)
    second = world.tokens.refresh(first.refresh_token, CLIENT)
    third = world.tokens.refresh(second.refresh_token, CLIENT)
    assert len({first.refresh_token, second.refresh_token, third.refresh_token}) == 3
    assert first.session == second.session == third.session
    assert world.tokens.verify(third.access_token).subject == "alice"
    assert world.sink.kinds().count("token.refreshed") == 2


def test_the_successor_is_never_stored_in_plaintext(world: World) -> None:
    first = world.tokens.login("alice", CLIENT)
    second = world.tokens.refresh(first.refresh_token, CLIENT)
    rotated = world.token_store.get(token_key(first.refresh_token))
    assert rotated is not None and rotated.sealed is not None
    assert second.refresh_token not in repr(world.token_store.__dict__)
    assert second.refresh_token[5:] not in rotated.sealed
    # Only the holder of the rotated token can open it; tampering is detected.
    assert unseal(first.refresh_token, rotated.sealed) == second.refresh_token
    assert unseal(second.refresh_token, rotated.sealed) is None
    assert unseal(first.refresh_token, rotated.sealed[:-4] + "AAAA") is None


def test_seal_uses_a_fresh_nonce() -> None:
    assert seal("swrt_" + "a" * 43, "x") != seal("swrt_" + "a" * 43, "x")


def test_concurrent_tabs_inside_the_grace_window_get_the_same_successor(world: World) -> None:
    first = world.tokens.login("alice", CLIENT)
    tab_one = world.tokens.refresh(first.refresh_token, CLIENT)
    world.clock.advance(3)
    tab_two = world.tokens.refresh(first.refresh_token, CLIENT)
    tab_three = world.tokens.refresh(first.refresh_token, CLIENT)
    assert tab_one.refresh_token == tab_two.refresh_token == tab_three.refresh_token
    assert "token.refresh.reused" not in world.sink.kinds()
    # The shared successor keeps working, and the session is intact.
    assert world.tokens.refresh(tab_two.refresh_token, CLIENT).session == first.session


def test_reuse_after_the_grace_window_revokes_the_whole_family(world: World) -> None:
    first = world.tokens.login("alice", CLIENT)
    second = world.tokens.refresh(first.refresh_token, CLIENT)
    world.clock.advance(10.5)
    with pytest.raises(InvalidGrant) as caught:
        world.tokens.refresh(first.refresh_token, CLIENT)
    assert caught.value.reason == "reused"
    reused = events(world.sink, "token.refresh.reused")
    assert len(reused) == 1
    assert reused[0].handle == first.session and reused[0].user_id == "alice"
    assert first.refresh_token not in repr(reused[0].as_dict())
    assert world.session_store.get_by_handle(first.session) is None
    with pytest.raises(InvalidGrant):
        world.tokens.refresh(second.refresh_token, CLIENT)
    with pytest.raises(InvalidToken):
        world.tokens.verify(second.access_token)


def test_zero_grace_means_any_second_use_is_reuse() -> None:
    world = World(policy=TokenPolicy(refresh_grace=0))
    first = world.tokens.login("alice", CLIENT)
    world.tokens.refresh(first.refresh_token, CLIENT)
    world.clock.advance(0.5)
    with pytest.raises(InvalidGrant, match="already used"):
        world.tokens.refresh(first.refresh_token, CLIENT)


def test_a_lost_rotation_race_is_resolved_as_a_grace_refresh(world: World) -> None:
    first = world.tokens.login("alice", CLIENT)
    store = world.token_store
    original_get = store.get
    calls = {"n": 0}

    def get_then_lose(key: str) -> RefreshRecord | None:
        # The first read sees the token unrotated; another tab rotates it right after.
        calls["n"] += 1
        record = original_get(key)
        if calls["n"] == 1:
            world.tokens.refresh(first.refresh_token, CLIENT)
        return record

    store.get = get_then_lose  # type: ignore[method-assign]
    result = world.tokens.refresh(first.refresh_token, CLIENT)
    store.get = original_get  # type: ignore[method-assign]
    rotated = original_get(token_key(first.refresh_token))
    assert rotated is not None and rotated.sealed is not None
    assert result.refresh_token == unseal(first.refresh_token, rotated.sealed)
    assert "token.refresh.reused" not in world.sink.kinds()


def test_refresh_is_bound_to_its_session(world: World) -> None:
    pair = world.tokens.login("alice", CLIENT)
    world.sessions.revoke(pair.session)
    with pytest.raises(InvalidGrant) as caught:
        world.tokens.refresh(pair.refresh_token, CLIENT)
    assert caught.value.reason in ("session", "unknown")


def test_refresh_stops_at_the_sessions_absolute_timeout() -> None:
    world = World(
        session_policy=SessionPolicy(idle_timeout=600, absolute_timeout=1800, touch_interval=60)
    )
    pair = world.tokens.login("alice", CLIENT)
    for _ in range(5):
        world.clock.advance(299)
        pair = world.tokens.refresh(pair.refresh_token, CLIENT)
    world.clock.advance(400)  # now past created + 1800
    with pytest.raises(InvalidGrant) as caught:
        world.tokens.refresh(pair.refresh_token, CLIENT)
    assert caught.value.reason == "expired"


def test_refresh_counts_as_activity_for_the_idle_timeout() -> None:
    world = World(
        session_policy=SessionPolicy(idle_timeout=600, absolute_timeout=7200, touch_interval=60)
    )
    pair = world.tokens.login("alice", CLIENT)
    for _ in range(4):  # 4 x 500 s > the 600 s idle timeout, but never 600 s without a refresh
        world.clock.advance(500)
        pair = world.tokens.refresh(pair.refresh_token, CLIENT)
    assert world.tokens.verify(pair.access_token).subject == "alice"


def test_unknown_and_malformed_refresh_tokens(world: World) -> None:
    for junk in ("", "swrt_" + "A" * 43, "swrt_short", "x" * 5000, "swrt_" + "é" * 43):
        with pytest.raises(InvalidGrant):
            world.tokens.refresh(junk, CLIENT)
    assert world.sink.kinds().count("token.rejected") == 5


def test_issue_for_an_existing_cookie_session(world: World) -> None:
    session = world.sessions.new_session(CLIENT)
    with pytest.raises(ValueError, match="logged-in"):
        world.tokens.issue(session)
    session.login("bob")
    pair = world.tokens.issue(session)
    assert pair.session == session.handle
    assert world.tokens.verify(pair.access_token).subject == "bob"


def test_logout_by_access_token_ends_session_and_tokens(world: World) -> None:
    pair = world.tokens.login("alice", CLIENT)
    claims = world.tokens.verify(pair.access_token)
    assert world.tokens.logout(claims, CLIENT) is True
    with pytest.raises(InvalidToken):
        world.tokens.verify(pair.access_token)
    with pytest.raises(InvalidGrant):
        world.tokens.refresh(pair.refresh_token, CLIENT)


def test_refresh_cookie_design() -> None:
    cookie = RefreshCookie()
    world = World()
    pair = world.tokens.login("alice", CLIENT)
    header = cookie.set(pair, now=world.clock.now())
    assert header.startswith(f"__Host-refresh={pair.refresh_token}; Path=/; Max-Age=")
    for attribute in ("Secure", "HttpOnly", "SameSite=Strict"):
        assert attribute in header
    assert "Domain" not in header
    assert cookie.read(f"__Host-refresh={pair.refresh_token}") == pair.refresh_token
    # Identical copies are one cookie (issue 9, item 2); differing copies are ambiguous.
    doubled = f"__Host-refresh={pair.refresh_token}; __Host-refresh={pair.refresh_token}"
    assert cookie.read(doubled) == pair.refresh_token
    other = world.tokens.login("alice", CLIENT).refresh_token
    assert cookie.read(f"__Host-refresh={pair.refresh_token}; __Host-refresh={other}") is None
    assert cookie.read("__Host-refresh=not-a-token") is None
    assert "Max-Age=0" in cookie.clear()


@pytest.mark.anyio
async def test_async_twin_rotates_and_detects_reuse() -> None:
    world = AsyncWorld()
    first = await world.tokens.login("alice", CLIENT)
    second = await world.tokens.refresh(first.refresh_token, CLIENT)
    assert (await world.tokens.verify(second.access_token)).subject == "alice"
    world.clock.advance(60)
    with pytest.raises(InvalidGrant):
        await world.tokens.refresh(first.refresh_token, CLIENT)
    with pytest.raises(InvalidToken):
        await world.tokens.verify(second.access_token)
    assert "token.refresh.reused" in world.sink.kinds()
