"""Buckets for stores that spread over shards (``core.placement``)."""

from __future__ import annotations

import hashlib

import pytest

from sessionward.core.placement import MAX_BUCKETS, Placement
from sessionward.core.session_tokens import new_handle, new_token, session_key


@pytest.mark.parametrize("buckets", [0, 1, 3, 12, 2048, True, 4.0, "4"])
def test_only_powers_of_two_from_2_to_1024_are_bucket_counts(buckets: object) -> None:
    with pytest.raises(ValueError, match="power of two"):
        Placement(buckets)  # type: ignore[arg-type]


def test_a_key_and_the_text_it_hashes_fall_in_the_same_bucket() -> None:
    place = Placement(64)
    for value in ["alice", "Zoë", "\udcff", new_handle()]:
        digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
        assert place.of_text(value) == place.of_key(digest)


def test_something_drawn_for_the_most_buckets_is_in_place_for_fewer() -> None:
    most = Placement(MAX_BUCKETS)
    user_bucket = most.of_text("alice")
    token = most.draw(user_bucket, new_token, lambda t: most.of_key(session_key(t)))
    handle = most.draw(most.of_key(session_key(token)), new_handle, most.of_text)
    for n in (2, 4, 16, 256, MAX_BUCKETS):
        place = Placement(n)
        bucket = place.of_text("alice")
        assert place.of_key(session_key(token)) == bucket
        assert place.of_text(handle) == bucket


def test_buckets_spread_evenly() -> None:
    place = Placement(8)
    counts = [0] * 8
    for i in range(8000):
        counts[place.of_text(f"user-{i}")] += 1
    assert min(counts) > 800 and max(counts) < 1200  # ~1000 each


def test_a_key_sessionward_did_not_make_still_has_one_fixed_bucket() -> None:
    place = Placement(16)
    assert place.of_key("'; DROP TABLE x; --") == place.of_key("'; DROP TABLE x; --")
    assert 0 <= place.of_key("") < 16
