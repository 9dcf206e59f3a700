"""Periodic token renewal with a grace window, decided without I/O.

Renewal moves a busy session to a fresh token every ``SessionPolicy.renew_interval`` so that a
token copied once (from a log, a shared machine, a proxy) stops working even while the victim
keeps using the session. The hard part is the requests already in flight with the previous
token: the browser sent them before it saw the new cookie, and refusing them would log the
user out at random. So the store moves the record to the new key and leaves a *stub* under the
old key for ``renewal_grace`` seconds. A request presenting the old token finds the stub,
follows it to the new record, and gets the new cookie; after the window the stub is dead.

The stub must lead from the old token to the new one without the new token being stored
anywhere (a database reader would otherwise hold a live token). The new token is therefore
*derived* from the old one: ``new = HMAC-SHA256(key=old token, msg=label || nonce)``, with a
fresh random nonce kept in the stub. Only a holder of the old token can compute the new one,
which is exactly the set of clients the grace window is meant to serve; the stored key of the
new record is still SHA-256 of the new token, and once the stub is gone nothing links them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any

from .placement import Placement
from .policy import SessionPolicy
from .records import SessionRecord
from .session_tokens import new_handle, token_key

#: ``meta`` key of a renewal stub: ``{"nonce": ..., "until": ...}``.
META_STUB = "renewal_stub"
#: ``meta`` key of a live record: when its token was last renewed.
META_RENEWED_AT = "renewed_at"
_LABEL = b"sessionward renewal v1\x00"


def is_stub(record: SessionRecord) -> bool:
    return isinstance(record.meta.get(META_STUB), dict)


def _derive(token: str, nonce: str) -> str:
    digest = hmac.new(token.encode("ascii"), _LABEL + nonce.encode("ascii"), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode("ascii")


def successor(stub: SessionRecord, token: str, now: float) -> str | None:
    """The token that replaced ``token``, if ``stub`` is its stub and the window is open."""
    info: Any = stub.meta.get(META_STUB)
    if not isinstance(info, dict) or stub.key != token_key(token):
        return None
    nonce, until = info.get("nonce"), info.get("until")
    if not isinstance(nonce, str) or not isinstance(until, int | float) or now >= until:
        return None
    return _derive(token, nonce)


def _issued_at(record: SessionRecord) -> float:
    renewed = record.meta.get(META_RENEWED_AT)
    times = [record.created_at, record.authenticated_at or 0.0]
    if isinstance(renewed, int | float):
        times.append(float(renewed))
    return max(times)


def due(record: SessionRecord, policy: SessionPolicy, now: float) -> bool:
    """Whether this request should move the session to a new token."""
    interval = policy.renew_interval
    return interval is not None and now - _issued_at(record) >= interval


def recently_renewed(record: SessionRecord, policy: SessionPolicy, now: float) -> bool:
    """Within the grace window after a renewal: (re)send the cookie with the current token,
    so a response to a request that presented the previous token carries the new one."""
    renewed = record.meta.get(META_RENEWED_AT)
    return isinstance(renewed, int | float) and now - renewed < policy.renewal_grace


def plan(
    record: SessionRecord,
    token: str,
    policy: SessionPolicy,
    now: float,
    placement: Placement | None = None,
) -> tuple[str, SessionRecord]:
    """The new token and the stub to leave under the old key.

    With a ``placement`` the new token's key and the stub's handle are drawn in the old key's
    bucket (the nonce is drawn until the derived token lands there).
    """
    if placement is None:
        nonce, handle = secrets.token_urlsafe(16), new_handle()
    else:
        bucket = placement.of_key(record.key)
        nonce = placement.draw(
            bucket,
            lambda: secrets.token_urlsafe(16),
            lambda n: placement.of_key(token_key(_derive(token, n))),
        )
        handle = placement.draw(bucket, new_handle, placement.of_text)
    until = now + policy.renewal_grace
    stub = SessionRecord(
        key=record.key,
        handle=handle,
        user_id=None,
        created_at=now,
        last_seen_at=now,
        expires_at=until,
        origin="renewal",
        meta={META_STUB: {"nonce": nonce, "until": until}},
    )
    return _derive(token, nonce), stub
