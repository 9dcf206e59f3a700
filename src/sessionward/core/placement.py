"""Which bucket a session's keys belong to, for a store that spreads over shards.

Redis Cluster runs a script only on keys of one slot, and keys share a slot when they share a
hash tag. A store with one tag keeps every session on one shard; a store with ``buckets=N``
gives each of N buckets its own tag, so sessions spread over the shards, and each session's
keys (the session, its handle, its user's index) stay in one bucket, where one script still
changes them together. That holds because the keys are *drawn* into their bucket:

* a logged-in session's token is drawn in its user's bucket (SHA-256 of the user id), so all
  of a user's sessions and the user's index share a bucket: login with a limit, listing and
  log-out-everywhere stay single atomic steps;
* an anonymous session's token falls where it falls, and its handle is drawn in that bucket;
* a rotation keeps the handle, so the new token is drawn in the handle's bucket;
* a renewal draws the stub's nonce until the successor token lands in the old key's bucket
  (the successor is derived from the nonce, see :mod:`.renewal`).

Drawing repeats the random draw until the SHA-256 lands in the bucket: N draws on average,
a few microseconds each, and only when a session is created, rotated or renewed; the read and
the save of every request compute the bucket from the key, which is already a hash. It fixes
log2(N) bits of a hash of the token, so a token keeps at least 246 of its 256 random bits, a
handle at least 118 of 128.

N is a power of two, so a record drawn for the largest N is in place for every smaller one
(the bucket is the low bits of the same number).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

MAX_BUCKETS = 1024

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Placement:
    """How many buckets a store spreads over (a power of two, 2 to :data:`MAX_BUCKETS`)."""

    buckets: int

    def __post_init__(self) -> None:
        n = self.buckets
        if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= MAX_BUCKETS:
            raise ValueError(f"buckets must be a power of two from 2 to {MAX_BUCKETS}, not {n!r}")
        if n & (n - 1):
            raise ValueError(f"buckets must be a power of two (2, 4, ... {MAX_BUCKETS}), not {n}")

    def of_key(self, key: str) -> int:
        """The bucket of a session key (hex SHA-256 of its token: its first 32 bits)."""
        try:
            return int(key[:8], 16) & (self.buckets - 1)
        except ValueError:  # not a key sessionward made; any fixed answer will do
            return self.of_text(key + "\x00")

    def of_text(self, value: str) -> int:
        """The bucket of a handle or a user id (by SHA-256 of its UTF-8)."""
        digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()
        return int.from_bytes(digest[:4], "big") & (self.buckets - 1)

    def draw(self, bucket: int, make: Callable[[], _T], bucket_of: Callable[[_T], int]) -> _T:
        """``make()`` again and again until ``bucket_of`` its value is ``bucket``."""
        while True:
            value = make()
            if bucket_of(value) == bucket:
                return value
