"""Token operations written once, as generators of store calls (like :mod:`sessionward.flows`).

A flow yields :class:`~sessionward.calls.StoreCall` values whose method names the store they are for
(``"sessions.get_by_handle"`` on the session store, ``"tokens.rotate"`` on the token store) and
receives each result back; the sync and
async token managers drive the same flows, so the twins cannot drift apart.
"""

from __future__ import annotations

import secrets
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from ..calls import StoreCall
from ..core import lifecycle
from ..core.client import ClientInfo
from ..core.events import EventKind, RevokeReason, fingerprint
from ..core.records import SessionRecord
from ..errors import ConfigurationError
from ..flows import SessionFlows
from ..stores.base import RecordUpdate
from .access import AccessClaims, AccessTokens
from .errors import InvalidGrant, InvalidToken, TokenError
from .refresh import RefreshRecord, is_well_formed, new_refresh_token, refresh_key, seal, unseal
from .store import Revocations

T = TypeVar("T")
E = TypeVar("E", bound=TokenError)
VerifyMode = Literal["strict", "revocation_list"]
MAX_STALENESS = 300
MAX_GRACE = 60


TokenFlow = Generator[StoreCall, Any, T]


@dataclass(frozen=True, slots=True)
class TokenPolicy:
    """How access tokens are checked against their session, and how refresh behaves.

    ``verify_mode="strict"`` reads the session (``get_by_handle``) on every request: a revoked
    session's tokens stop at once. ``"revocation_list"`` reads no session; it checks a cached
    copy of the store's revocation list, re-read at most every ``max_staleness`` seconds, so a
    revocation takes effect within that bound (plus the time a revocation-list write takes).

    ``refresh_grace`` is how long after a rotation the rotated refresh token still yields the
    same successor (tabs refreshing at once) instead of revoking the family.
    ``refresh_ttl`` caps a family's life; by default it ends with the session's absolute timeout.
    """

    verify_mode: VerifyMode = "strict"
    max_staleness: float = 30.0
    refresh_grace: float = 10.0
    refresh_ttl: float | None = None

    def __post_init__(self) -> None:
        if self.verify_mode not in ("strict", "revocation_list"):
            raise ConfigurationError("verify_mode must be 'strict' or 'revocation_list'")
        if not 0 < self.max_staleness <= MAX_STALENESS:
            raise ConfigurationError(f"max_staleness must be in (0, {MAX_STALENESS}] seconds")
        if not 0 <= self.refresh_grace <= MAX_GRACE:
            raise ConfigurationError(f"refresh_grace must be 0..{MAX_GRACE} seconds")
        if self.refresh_ttl is not None and self.refresh_ttl <= 0:
            raise ConfigurationError("refresh_ttl must be positive (or None)")


@dataclass(frozen=True, slots=True)
class TokenPair:
    """What a login or refresh hands to the client. Never log it."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int
    refresh_expires_at: float
    session: str

    def as_json(self) -> dict[str, Any]:
        """The RFC 6749 section 5.1 response body."""
        return {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "refresh_token": self.refresh_token,
        }


class TokenFlows:
    """Issue, verify, refresh and revoke, over access tokens and the session flows."""

    def __init__(self, access: AccessTokens, policy: TokenPolicy, sessions: SessionFlows) -> None:
        if access.clock is not sessions.clock:
            raise ConfigurationError("access tokens and sessions must share one clock")
        self.access = access
        self.policy = policy
        self.sessions = sessions
        self._revocations = Revocations()
        self._fetched_at: float | None = None

    @property
    def revocation_lifetime(self) -> float:
        """How long a revocation-list entry must live: the longest an access token verifies."""
        return float(self.access.settings.ttl + self.access.settings.leeway)

    def _reject(self, exc: E, client: ClientInfo | None, **detail: Any) -> E:
        """Record a refused token in the audit trail; return the exception to raise."""
        self.sessions.observer.emit(
            EventKind.TOKEN_REJECTED,
            client=client,
            reason=exc.reason,
            error=exc.error,
            **{**exc.detail, **detail},
        )
        return exc

    def _live(self, record: SessionRecord | None, user_id: str) -> SessionRecord | None:
        if record is None or record.user_id is None or record.user_id != user_id:
            return None
        verdict = lifecycle.check(record, self.sessions.policy, self.sessions.clock.now())
        return record if verdict is lifecycle.Verdict.VALID else None

    # -- issue ------------------------------------------------------------------------------

    def issue(self, record: SessionRecord, client: ClientInfo | None) -> TokenFlow[TokenPair]:
        """A new refresh family and access token for an authenticated session."""
        if record.user_id is None:
            raise ValueError("tokens are issued only for an authenticated session; login first")
        now = self.sessions.clock.now()
        expires = lifecycle.absolute_deadline(record, self.sessions.policy)
        if self.policy.refresh_ttl is not None:
            expires = min(expires, now + self.policy.refresh_ttl)
        refresh = new_refresh_token()
        yield StoreCall(
            "add",
            (
                RefreshRecord(
                    key=refresh_key(refresh),
                    family=secrets.token_urlsafe(16),
                    session=record.handle,
                    user_id=record.user_id,
                    issued_at=now,
                    expires_at=expires,
                ),
            ),
            target="tokens",
        )
        pair = self._pair(record, refresh, expires)
        self.sessions.observer.emit(EventKind.TOKEN_ISSUED, client=client, record=record)
        return pair

    def _pair(self, record: SessionRecord, refresh: str, refresh_expires: float) -> TokenPair:
        if record.user_id is None:
            raise ValueError("tokens are issued only for an authenticated session")
        issued = self.access.issue(subject=record.user_id, session=record.handle)
        return TokenPair(
            access_token=issued.token,
            refresh_token=refresh,
            expires_in=self.access.settings.ttl,
            refresh_expires_at=refresh_expires,
            session=record.handle,
        )

    # -- verify -----------------------------------------------------------------------------

    def verify(self, token: str, client: ClientInfo | None) -> TokenFlow[AccessClaims]:
        try:
            claims = self.access.verify(token)
        except InvalidToken as exc:
            raise self._reject(exc, client) from None
        if self.policy.verify_mode == "strict":
            record: SessionRecord | None = yield StoreCall(
                "get_by_handle", (claims.session,), target="sessions"
            )
            if self._live(record, claims.subject) is None:
                raise self._reject(
                    InvalidToken("session", "The session of this access token has ended."),
                    client,
                    session=claims.session,
                )
            return claims
        now = self.sessions.clock.now()
        if self._fetched_at is None or now - self._fetched_at >= self.policy.max_staleness:
            self._revocations = yield StoreCall("revocations", (now,), target="tokens")
            self._fetched_at = now
        if self._revocations.revokes(claims.session, claims.issued_at):
            raise self._reject(
                InvalidToken("revoked", "The session of this access token has ended."),
                client,
                session=claims.session,
            )
        return claims

    # -- refresh ----------------------------------------------------------------------------

    def refresh(self, presented: str, client: ClientInfo | None) -> TokenFlow[TokenPair]:
        if not is_well_formed(presented):
            looks_like_jwt = isinstance(presented, str) and presented.count(".") == 2
            reason = "access token used as refresh token" if looks_like_jwt else "shape"
            raise self._reject(InvalidGrant(reason), client)
        key = refresh_key(presented)
        current: RefreshRecord | None = yield StoreCall("get", (key,), target="tokens")
        for _attempt in range(2):  # a lost rotation race is re-read once
            now = self.sessions.clock.now()
            if current is None:
                raise self._reject(InvalidGrant("unknown"), client, presented=fingerprint(key))
            if now >= current.expires_at:
                raise self._reject(InvalidGrant("expired"), client, session=current.session)
            if current.rotated_at is None:
                record = yield from self._session_for(current, client)
                successor = new_refresh_token()
                won: bool = yield StoreCall(
                    "rotate",
                    (key, current.evolve(key=refresh_key(successor), issued_at=now, sealed=None)),
                    {"sealed": seal(presented, successor), "now": now},
                    target="tokens",
                )
                if won:
                    record = yield from self._touch(record)
                    self.sessions.observer.emit(
                        EventKind.TOKEN_REFRESHED, client=client, record=record
                    )
                    return self._pair(record, successor, current.expires_at)
                current = yield StoreCall("get", (key,), target="tokens")
                continue
            within_grace = now - current.rotated_at <= self.policy.refresh_grace
            if within_grace and current.sealed is not None:
                successor_or_none = unseal(presented, current.sealed)
                if successor_or_none is not None:
                    record = yield from self._session_for(current, client)
                    self.sessions.observer.emit(
                        EventKind.TOKEN_REFRESHED, client=client, record=record, grace=True
                    )
                    return self._pair(record, successor_or_none, current.expires_at)
            yield from self._end_family(current, client)
            raise InvalidGrant(
                "reused", "The refresh token was already used; the session has been ended."
            )
        raise self._reject(InvalidGrant("contention"), client)

    def _session_for(
        self, current: RefreshRecord, client: ClientInfo | None
    ) -> TokenFlow[SessionRecord]:
        found: SessionRecord | None = yield StoreCall(
            "get_by_handle", (current.session,), target="sessions"
        )
        record = self._live(found, current.user_id)
        if record is None:
            now = self.sessions.clock.now()
            yield StoreCall(
                "end_session",
                (current.session,),
                {"now": now, "until": now + self.revocation_lifetime},
                target="tokens",
            )
            raise self._reject(
                InvalidGrant("session", "The session of this refresh token has ended."),
                client,
                session=current.session,
            )
        return record

    def _touch(self, record: SessionRecord) -> TokenFlow[SessionRecord]:
        """A refresh is activity: move the session's idle deadline (throttled as for cookies)."""
        now = self.sessions.clock.now()
        if not lifecycle.needs_touch(record, self.sessions.policy, now):
            return record
        seen = lifecycle.touched(record, self.sessions.policy, now)
        change = RecordUpdate(last_seen_at=seen.last_seen_at, expires_at=seen.expires_at)
        stored: SessionRecord | None = yield StoreCall(
            "update", (record.key, change), target="sessions"
        )
        return record if stored is None else stored

    def _end_family(self, current: RefreshRecord, client: ClientInfo | None) -> TokenFlow[None]:
        """Reuse detected: end the session, its refresh tokens and its access tokens."""
        now = self.sessions.clock.now()
        found: SessionRecord | None = yield StoreCall(
            "get_by_handle", (current.session,), target="sessions"
        )
        if found is not None:
            yield StoreCall("delete", (found.key,), target="sessions")
        yield StoreCall(
            "end_session",
            (current.session,),
            {"now": now, "until": now + self.revocation_lifetime},
            target="tokens",
        )
        self.sessions.observer.emit(
            EventKind.REFRESH_REUSED,
            client=client,
            record=found,
            reason="refresh token reused after rotation",
            session=current.session,
            user=current.user_id,
            family=current.family,
        )

    # -- revoke -----------------------------------------------------------------------------

    def end_session(
        self, handle: str, *, owner: str | None, client: ClientInfo | None
    ) -> TokenFlow[bool]:
        """Logout from an API client: the session, its refresh tokens and access tokens end."""
        now = self.sessions.clock.now()
        found: SessionRecord | None = yield StoreCall("get_by_handle", (handle,), target="sessions")
        if found is not None and owner is not None and found.user_id != owner:
            return False
        gone = None
        if found is not None:
            gone = yield StoreCall("delete", (found.key,), target="sessions")
        yield StoreCall(
            "end_session",
            (handle,),
            {"now": now, "until": now + self.revocation_lifetime},
            target="tokens",
        )
        if gone is not None:
            self.sessions.observer.emit(
                EventKind.LOGOUT, client=client, record=gone, reason=RevokeReason.USER
            )
        return gone is not None
