"""Every session operation written once, as a generator of store calls.

A flow yields :class:`StoreCall` values ("call this store method with these arguments") and
receives each result back; it never touches I/O itself. :mod:`sessionward.manager` drives the
same flows against a synchronous store (``SessionManager``) or an async one
(``AsyncSessionManager``), so the two twins cannot drift apart.
"""

from __future__ import annotations

import contextlib
import dataclasses
import warnings
from collections.abc import Mapping
from typing import Any, NamedTuple

from .calls import Flow, StoreCall
from .core import anomaly, csrf, lifecycle, renewal
from .core.client import ClientInfo
from .core.clock import Clock
from .core.cookies import CookieConfig, CookieLookup, dump_cookie, expire_cookie, find_cookie
from .core.events import EventKind, RevokeReason, fingerprint
from .core.header_merge import SESSION_HEADERS
from .core.keys import SecretKeyRing
from .core.placement import Placement
from .core.policy import SessionPolicy
from .core.records import SessionRecord, encode_data
from .core.session_tokens import (
    Tag,
    check_tag,
    is_well_formed_token,
    new_handle,
    new_token,
    random_part,
    session_key,
    tag_token,
)
from .errors import GuessingBlocked, SessionLimitExceeded, StoreUnavailable
from .observer import Observer
from .session import Adopted, BaseSession, Ended, Saved, SessionInfo
from .stores.base import RecordUpdate, SessionLimit, update_of

Headers = list[tuple[str, str]]


class Loaded(NamedTuple):
    """The outcome of reading the cookie: a record and token, or nothing."""

    record: SessionRecord | None = None
    token: str | None = None


class SessionFlows:
    """The session life cycle over policy, cookie settings, a clock and an observer.

    The flows decide and ask for store calls; ``observer`` (events, device labels, the
    guessing guard's counts) reports and never changes the store.
    """

    def __init__(
        self,
        *,
        policy: SessionPolicy,
        cookie: CookieConfig,
        clock: Clock,
        observer: Observer,
        token_keys: SecretKeyRing | None = None,
        placement: Placement | None = None,
    ) -> None:
        self.clock = clock
        #: The store's buckets (``core.placement``): new tokens and handles are drawn in them.
        self.placement = placement
        self.observer = observer
        # Tokens are tagged under token_keys. Without a configured ring, a key made for this
        # process tags them and a tag it does not know is still looked up (another instance
        # or an earlier process issued it); with one, an unknown tag is refused unseen.
        self.token_keys = token_keys or SecretKeyRing.generate()
        self.strict_tags = token_keys is not None
        self.policy = policy
        self.cookie = cookie
        limit = policy.max_sessions_per_user
        self.limit = None if limit is None else SessionLimit(limit, policy.on_limit)

    # -- load ---------------------------------------------------------------------------

    def load(self, cookie_header: str | bytes | None, client: ClientInfo) -> Flow[Loaded]:
        # A client blocked for guessing still has its cookie looked up: a live session goes
        # through (one guesser must not lock out everyone behind the same NAT or proxy); only
        # forged, malformed and ambiguous IDs are refused, in _forged.
        # (Not a generator itself: the common case hands back _lookup's flow unwrapped.)
        lookup = find_cookie(cookie_header, self.cookie.wire_name)
        if lookup.tossed:
            # A cookie whose name is ours only after normalising: planted by a sibling host
            # (cookie tossing). Never used; recorded. Not counted as guessing: the victim's
            # browser sends it, so counting it would let the attacker get the victim blocked.
            self.observer.emit(EventKind.MALFORMED_ID, client=client, reason="cookie_tossing")
        if lookup.present and not lookup.duplicate and lookup.value is not None:
            return self._lookup(lookup.value, client)
        return self._unusable(lookup, cookie_header, client)

    def _unusable(
        self, lookup: CookieLookup, cookie_header: str | bytes | None, client: ClientInfo
    ) -> Flow[Loaded]:
        """No session cookie, or one that cannot be used (duplicated, oversized)."""
        if not lookup.present:
            return Loaded()
        if isinstance(cookie_header, bytes):
            text = cookie_header.decode("latin-1")
        else:
            text = cookie_header or ""
        presented = self._fingerprint(text[:4096])
        self.observer.emit(EventKind.MALFORMED_ID, client=client, reason="duplicate or oversized")
        yield from self._forged(client, presented)
        return Loaded()

    def load_token(self, token: str, client: ClientInfo) -> Flow[Loaded]:
        """Like :meth:`load`, for a token a framework already took from its cookie jar."""
        return self._lookup(token, client)

    def _lookup(self, token: str, client: ClientInfo) -> Flow[Loaded]:
        if not is_well_formed_token(token):
            # Strict mode: a value we could not have issued is never looked up or adopted.
            presented = self._fingerprint(token)
            self.observer.emit(
                EventKind.MALFORMED_ID,
                client=client,
                reason="shape",
                presented=presented,
                length=len(token),
            )
            yield from self._forged(client, presented)
            return Loaded()
        # Without a configured key ring the tag decides nothing for a live session (an unknown
        # tag is looked up all the same), so it is only checked when the lookup finds nothing.
        tag = check_tag(token, self.token_keys) if self.strict_tags else None
        if tag is Tag.INVALID:
            # With a configured key ring, a tag none of its keys made is a forgery: refused
            # without a store call.
            presented = self._fingerprint(token)
            self.observer.emit(
                EventKind.MALFORMED_ID, client=client, reason="tag", presented=presented
            )
            yield from self._forged(client, presented)
            return Loaded()
        given = token
        record: SessionRecord | None = yield StoreCall("get", (session_key(token),))
        if record is not None and renewal.is_stub(record):
            # A token renewed moments ago: within the grace window, continue as its successor.
            successor = self._successor(record, token, self.clock.now())
            record = (
                None if successor is None else (yield StoreCall("get", (session_key(successor),)))
            )
            token = successor or token
        if record is None:
            presented = self._fingerprint(token)
            # A valid tag means sessionward issued this token: its session ended (logout,
            # expiry, a store that lost its data). That is not guessing, so it is not counted.
            genuine = (check_tag(given, self.token_keys) if tag is None else tag) is Tag.VALID
            self.observer.emit(
                EventKind.UNKNOWN_ID, client=client, presented=presented, issued=genuine
            )
            if not genuine:
                yield from self._forged(client, presented)
            return Loaded()
        verdict = lifecycle.check(record, self.policy, self.clock.now())
        if verdict is not lifecycle.Verdict.VALID:
            yield StoreCall("delete", (record.key,))
            kind = (
                EventKind.EXPIRED_IDLE
                if verdict is lifecycle.Verdict.EXPIRED_IDLE
                else EventKind.EXPIRED_ABSOLUTE
            )
            self.observer.emit(kind, client=client, record=record)
            return Loaded()
        findings = anomaly.inspect(record, client, self.observer.monitoring.rules)
        if findings:
            kept = yield from self._react(record, client, findings)
            return Loaded() if kept is None else Loaded(kept, token)
        return Loaded(record, token)

    def _fingerprint(self, presented: str) -> str:
        """What events record of a presented value (a keyed hash, never the value)."""
        return fingerprint(presented, self.observer.monitoring.fingerprint_key)

    def _forged(self, client: ClientInfo, presented: str) -> Flow[None]:
        """A forged, malformed or ambiguous session ID: counted; a blocked client is refused.

        While blocked, such requests raise :class:`GuessingBlocked` (a 429 from the shells)
        carrying a header that clears the dead cookie, so a genuine user sharing the address
        gets one 429 and then reaches the login page without a cookie.
        """
        wait = yield from self.observer.forged(client, presented)
        if wait is not None:
            raise GuessingBlocked(wait, (("set-cookie", expire_cookie(self.cookie)),))

    def _react(
        self, record: SessionRecord, client: ClientInfo, findings: list[anomaly.Finding]
    ) -> Flow[SessionRecord | None]:
        """Apply the anomaly rules that fired: revoke, or remember and flag the session."""
        self.observer.findings(record, client, findings)
        if anomaly.strongest(findings) == "revoke":
            gone: SessionRecord | None = yield StoreCall("delete", (record.key,))
            if gone is not None:
                self.observer.emit(
                    EventKind.REVOKED,
                    client=client,
                    record=gone,
                    reason=RevokeReason.ANOMALY,
                    rule=",".join(f.rule for f in findings if f.action == "revoke"),
                )
            return None
        change = RecordUpdate(set_meta=anomaly.meta_after(record, findings))
        stored: SessionRecord | None = yield StoreCall("update", (record.key, change))
        return stored

    # -- commit (end of request) ---------------------------------------------------------

    def commit(self, session: BaseSession) -> Flow[Headers]:
        headers: Headers = []
        if not session.loaded:
            return headers  # nothing used the session: no store call, no header
        now = self.clock.now()
        ending = session.take_ending()
        if ending is not None:
            # clear() ended a stored session: destroy it now, as logout() would have.
            yield from self._destroy(session, *ending)
        record = session.record
        if session.ended and record is None:
            changed, _ = session.pending_changes()
            # Written to after logout (a flash("logged out")): a fresh anonymous session takes
            # the writes, as Django's flush() does; its cookie replaces the old one, so
            # Clear-Site-Data must not also wipe cookies.
            wipe = tuple(d for d in self.policy.clear_site_data if not (changed and d == "cookies"))
            if not changed:
                headers.append(("set-cookie", expire_cookie(self.cookie)))
            if wipe:
                headers.append(("clear-site-data", ", ".join(f'"{d}"' for d in wipe)))
            if changed:
                yield from self._create_anonymous(session, changed, now)
        elif record is None:
            changed, _ = session.pending_changes()
            if changed:
                yield from self._create_anonymous(session, changed, now)
        else:
            changed, deleted = session.pending_changes()
            touch = lifecycle.needs_touch(record, self.policy, now)
            renew = renewal.due(record, self.policy, now)
            if renewal.recently_renewed(record, self.policy, now):
                session.cookie_changed = True
            if changed or deleted or touch or renew:
                if changed:
                    session.check_size(self.policy.max_data_bytes)
                seen = lifecycle.touched(record, self.policy, now) if touch else None
                change = update_of(
                    changed,
                    deleted,
                    {renewal.META_RENEWED_AT: now} if renew else {},
                    None if seen is None else seen.last_seen_at,
                    None if seen is None else seen.expires_at,
                    # The session keeps its own data (Saved below): only the stored fields
                    # the rest of the flow reads need to come back.
                    False,
                )
                stored: SessionRecord | None = yield StoreCall("update", (record.key, change))
                if stored is not None and renewal.is_stub(stored):
                    # A concurrent request renewed the token: save under its successor.
                    stored = yield from self._follow(session, stored, change, now)
                    renew = False
                if (
                    renew
                    and stored is not None
                    and not (yield from self._renew(session, stored, now))
                ):
                    stored = None
                if stored is None:
                    # Revoked or logged out by a concurrent request: never resurrect it.
                    session.apply(Ended())
                    return [("set-cookie", expire_cookie(self.cookie))]
                if not renew:
                    session.apply(Saved(stored, changed, deleted))
                refresh = touch and session.refresh_cookie and self._persistent(session)
                session.cookie_changed = session.cookie_changed or refresh
        headers.extend(self._cookie_lines(session, now))
        return headers

    def failed(self, session: BaseSession) -> Headers:
        """The rule for a response the app answered with a 5xx (every shell follows it).

        Nothing is saved: no new session, no data change, no last-seen touch (Django's rule).
        A token that already changed in the store during the request (login, rotation) is
        still sent, or the browser would keep a token that no longer exists. No I/O.
        """
        if not session.loaded:
            return []
        return self._cookie_lines(session, self.clock.now())

    def _cookie_lines(self, session: BaseSession, now: float) -> Headers:
        """The Set-Cookie line for a session whose token the browser must be sent."""
        if not session.cookie_changed:  # the common case: the browser has the token already
            return []
        record, token = session.record, session.token
        if record is None or token is None:
            return []
        max_age: int | None = None
        if self._persistent(session):
            max_age = lifecycle.cookie_max_age(record, self.policy, now)
            if session.cookie_lifetime is not None:
                max_age = min(max_age, max(0, int(session.cookie_lifetime)))
        return [("set-cookie", dump_cookie(self.cookie, token, max_age=max_age))]

    def _persistent(self, session: BaseSession) -> bool:
        """Whether the cookie carries Max-Age (else it is a browser-session cookie)."""
        return self.cookie.persistent if session.persistent is None else session.persistent

    def create(self, session: BaseSession) -> Flow[None]:
        """Store a new anonymous session now, even one without data (an explicit save)."""
        if session.record is not None or session.ended:
            raise ValueError("create() needs a new session")
        yield from self._create_anonymous(session, session.data_to_store(), self.clock.now())

    def _create_anonymous(
        self, session: BaseSession, data: dict[str, Any], now: float
    ) -> Flow[None]:
        encode_data(data, max_bytes=self.policy.max_data_bytes)
        token = new_token(self.token_keys)
        record = self._new_record(token, None, session.client, now, "anonymous", data=data)
        yield StoreCall("create", (record,), {"now": now})
        session.apply(Adopted(record, token, new_cookie=True))
        self.observer.emit(EventKind.SESSION_CREATED, client=session.client, record=record)

    def exists(self, token: str) -> Flow[bool]:
        """Whether ``token`` names a live session; no events, no side effects."""
        if not isinstance(token, str) or not is_well_formed_token(token):
            return False
        record: SessionRecord | None = yield StoreCall("get", (session_key(token),))
        if record is None or renewal.is_stub(record):
            return False
        return lifecycle.check(record, self.policy, self.clock.now()) is lifecycle.Verdict.VALID

    def _follow(
        self, session: BaseSession, stub: SessionRecord, change: RecordUpdate, now: float
    ) -> Flow[SessionRecord | None]:
        token = session.token
        successor = None if token is None else self._successor(stub, token, now)
        if successor is None:
            return None
        # Adopted takes the data of the reply: it must come back whole.
        whole = change if change.reply_data else dataclasses.replace(change, reply_data=True)
        stored: SessionRecord | None = yield StoreCall("update", (session_key(successor), whole))
        if stored is not None:
            session.apply(Adopted(stored, successor, new_cookie=True))
        return stored

    def _successor(self, stub: SessionRecord, token: str, now: float) -> str | None:
        """The tagged token that replaced ``token`` (renewal derives it from the random part,
        so every instance finds the same successor, whatever key tags it)."""
        raw = renewal.successor(stub, random_part(token), now)
        return None if raw is None else tag_token(raw, self.token_keys)

    def _live_key(self, session: BaseSession, record: SessionRecord) -> Flow[str]:
        """The key the session lives under now: a renewal by a concurrent request may have
        moved it, and a login or rotation must replace the live record, not the stub."""
        token = session.token
        if self.policy.renew_interval is None or token is None:
            return record.key
        current: SessionRecord | None = yield StoreCall("get", (record.key,))
        now = self.clock.now()
        successor = None if current is None else self._successor(current, token, now)
        return record.key if successor is None else session_key(successor)

    def _renew(self, session: BaseSession, stored: SessionRecord, now: float) -> Flow[bool]:
        """Move the session to a new token, leaving a stub for requests still in flight."""
        token = session.token
        if token is None:
            return True
        raw, stub = renewal.plan(stored, random_part(token), self.policy, now, self.placement)
        new = tag_token(raw, self.token_keys)
        moved: SessionRecord | None = yield StoreCall(
            "renew", (stored.key, session_key(new), stub), {"handle": stored.handle}
        )
        if moved is None:
            # Another request renewed it first (or it just ended): follow that renewal.
            current: SessionRecord | None = yield StoreCall("get", (stored.key,))
            successor = None if current is None else self._successor(current, token, now)
            if successor is not None:
                moved = yield StoreCall("get", (session_key(successor),))
                new = successor
        if moved is None:
            return False
        session.apply(Adopted(moved, new, new_cookie=True))
        self.observer.emit(EventKind.ROTATED, client=session.client, record=moved, reason="renewal")
        return True

    def _new_token(self, beside: str) -> str:
        """A fresh tagged token; when the store has buckets, drawn in the bucket of ``beside``
        (the user id or handle whose keys the new session joins)."""
        placement = self.placement
        if placement is None:
            return new_token(self.token_keys)
        bucket = placement.of_text(beside)
        raw = placement.draw(bucket, new_token, lambda t: placement.of_key(session_key(t)))
        return tag_token(raw, self.token_keys)

    def _new_handle(self, key: str) -> str:
        """A fresh handle, in the bucket of the session ``key`` when the store has buckets."""
        placement = self.placement
        if placement is None:
            return new_handle()
        return placement.draw(placement.of_key(key), new_handle, placement.of_text)

    def _new_record(
        self,
        token: str,
        user_id: str | None,
        client: ClientInfo,
        now: float,
        origin: Any,
        *,
        data: Mapping[str, Any],
        handle: str | None = None,
        created_at: float | None = None,
        authenticated_at: float | None = None,
    ) -> SessionRecord:
        key = session_key(token)
        record = SessionRecord(
            key=key,
            handle=handle or self._new_handle(key),
            user_id=user_id,
            created_at=now if created_at is None else created_at,
            last_seen_at=now,
            expires_at=now,
            authenticated_at=authenticated_at,
            origin=origin,
            ip=client.ip,
            user_agent=client.user_agent,
            data=dict(data),
            meta=self.observer.client_meta(client),
        )
        return record.evolve(expires_at=lifecycle.expires_at(record, self.policy))

    # -- authentication changes --------------------------------------------------------

    def login(self, session: BaseSession, user_id: str, keep: tuple[str, ...] | None) -> Flow[None]:
        if not isinstance(user_id, str) or not user_id:
            # A None or empty user id would make "logged in as nobody" indistinguishable from
            # anonymous (the None == None trap); refuse it loudly.
            raise ValueError("login() needs a non-empty string user id")
        now = self.clock.now()
        data = session.data_to_store(keep)
        data.pop(csrf.SESSION_DATA_KEY, None)  # CSRF tokens from before login die here
        encode_data(data, max_bytes=self.policy.max_data_bytes)
        # All of a user's sessions share the user's bucket (one step for limit and listing).
        token = self._new_token(user_id)
        old = session.record
        record = self._new_record(
            token, user_id, session.client, now, "login", data=data, authenticated_at=now
        )
        replaces = None if old is None else (yield from self._live_key(session, old))
        try:
            evicted: list[SessionRecord] = yield from self._create_or_take_back(
                record, {"now": now, "replaces": replaces, "limit": self.limit}
            )
        except SessionLimitExceeded:
            self.observer.emit(EventKind.LIMIT_REJECTED, client=session.client, record=record)
            raise
        for gone in evicted:
            self.observer.emit(
                EventKind.REVOKED, client=session.client, record=gone, reason=RevokeReason.LIMIT
            )
        session.apply(Adopted(record, token, new_cookie=True))
        session.accessed = True
        self.observer.emit(
            EventKind.LOGIN_SUCCEEDED,
            client=session.client,
            record=record,
            previous=None if old is None else old.handle,
        )

    def rotate(self, session: BaseSession, *, reauthenticated: bool = False) -> Flow[None]:
        old = session.record
        if old is None:
            raise ValueError("rotate() needs a stored session; call login() first")
        now = self.clock.now()
        # The handle stays, so the new token goes where the handle is.
        token = self._new_token(old.handle)
        record = self._new_record(
            token,
            old.user_id,
            session.client,
            now,
            "rotation",
            # A privilege change ends the CSRF epoch: tokens issued before it stop working.
            data={k: v for k, v in session.data_to_store().items() if k != csrf.SESSION_DATA_KEY},
            handle=old.handle,
            created_at=old.created_at,
            # Only a password check counts as authentication: a rotation for a privilege
            # change must not make an old login look recent to needs_reauthentication().
            authenticated_at=now if reauthenticated and old.user_id else old.authenticated_at,
        )
        if not reauthenticated:
            # Nor may it wipe an anomaly rule's "ask for the password" mark.
            kept = {k: old.meta[k] for k in anomaly.CARRIED_ON_ROTATION if k in old.meta}
            record = record.evolve(meta={**record.meta, **kept})
        encode_data(record.data, max_bytes=self.policy.max_data_bytes)
        replaces = yield from self._live_key(session, old)
        yield from self._create_or_take_back(record, {"now": now, "replaces": replaces})
        session.apply(Adopted(record, token, new_cookie=True))
        session.accessed = True
        self.observer.emit(EventKind.ROTATED, client=session.client, record=record)

    def _create_or_take_back(
        self, record: SessionRecord, options: Mapping[str, Any]
    ) -> Flow[list[SessionRecord]]:
        """``create``; if the store fails, delete the new record again (best effort).

        A store that timed out may have applied the write all the same (a commit whose answer
        was lost). No client holds the new token, so that session could only sit there,
        counting against its user's limit until it idles out; a retried login must not meet it.
        """
        try:
            evicted: list[SessionRecord] = yield StoreCall("create", (record,), options)
        except StoreUnavailable:
            with contextlib.suppress(StoreUnavailable):
                yield StoreCall("delete", (record.key,))
            raise
        return evicted

    def reauthenticate(self, session: BaseSession) -> Flow[None]:
        """The user proved their password again: new token, fresh ``authenticated_at``.

        The new record starts with fresh metadata, so a re-authentication mark set by an
        anomaly rule (and the session's anomaly flags) are cleared.
        """
        if session.record is None or session.record.user_id is None:
            raise ValueError("reauthenticate() needs a logged-in session")
        yield from self.rotate(session, reauthenticated=True)
        self.observer.emit(EventKind.REAUTHENTICATED, client=session.client, record=session.record)

    def logout(self, session: BaseSession) -> Flow[None]:
        record = session.record
        if record is not None:
            yield from self._destroy(session, record, session.token)
        session.apply(Ended())

    def _destroy(
        self, session: BaseSession, record: SessionRecord, token: str | None
    ) -> Flow[None]:
        gone: SessionRecord | None = yield StoreCall("delete", (record.key,))
        if gone is not None and token is not None:
            # Renewed while this request ran: the session lives on under the successor.
            successor = self._successor(gone, token, self.clock.now())
            if successor is not None:
                yield StoreCall("delete", (session_key(successor),))
        self.observer.emit(EventKind.LOGOUT, client=session.client, record=record)

    def logout_everywhere(self, session: BaseSession) -> Flow[int]:
        record = session.record
        count = 0
        if record is not None and record.user_id is not None:
            gone: list[SessionRecord] = yield StoreCall("delete_by_user", (record.user_id,))
            for other in gone:
                if other.key != record.key:
                    self.observer.emit(
                        EventKind.REVOKED,
                        client=session.client,
                        record=other,
                        reason=RevokeReason.LOGOUT_EVERYWHERE,
                    )
            count = len(gone)
            self.observer.emit(EventKind.LOGOUT, client=session.client, record=record)
            session.apply(Ended())
            return count
        yield from self.logout(session)
        return count

    # -- listing and revocation ---------------------------------------------------------

    def sessions_of(
        self, user_id: str, current_handle: str | None = None
    ) -> Flow[list[SessionInfo]]:
        now = self.clock.now()
        records: list[SessionRecord] = yield StoreCall("list_by_user", (user_id,))
        return [
            SessionInfo.of(r, current_handle=current_handle)
            for r in records
            if lifecycle.check(r, self.policy, now) is lifecycle.Verdict.VALID
        ]

    def revoke(
        self,
        handle: str,
        *,
        owner: str | None,
        reason: RevokeReason,
        client: ClientInfo | None = None,
    ) -> Flow[bool]:
        """Delete the session named ``handle``; with ``owner``, only if it belongs to them."""
        if not isinstance(handle, str) or not handle:
            return False
        record: SessionRecord | None = yield StoreCall("get_by_handle", (handle,))
        if record is None or (owner is not None and record.user_id != owner):
            return False
        gone: SessionRecord | None = yield StoreCall("delete", (record.key,))
        if gone is not None:
            self.observer.emit(EventKind.REVOKED, client=client, record=gone, reason=reason)
        return gone is not None

    def revoke_user(
        self, user_id: str, reason: RevokeReason, keep: BaseSession | None = None
    ) -> Flow[int]:
        kept = None if keep is None or keep.record is None else keep.record.key
        gone: list[SessionRecord] = yield StoreCall("delete_by_user", (user_id,), {"keep": kept})
        for record in gone:
            self.observer.emit(EventKind.REVOKED, record=record, reason=reason)
        return len(gone)

    def revoke_all(self) -> Flow[int]:
        count: int = yield StoreCall("delete_all")
        self.observer.emit(EventKind.REVOKED, reason=RevokeReason.ADMIN, scope="all", count=count)
        return count

    def purge_expired(self) -> Flow[int]:
        count: int = yield StoreCall("purge_expired", (self.clock.now(),))
        return count


def response_headers(session: BaseSession, cookie_headers: Headers) -> Headers:
    """Headers every response that used the session carries, plus the cookie headers.

    ``Cache-Control: no-store`` keeps personalised pages out of shared and browser caches (the
    back button after logout); ``Vary: Cookie`` stops a cache serving one user's page to another.
    """
    if not (session.accessed or cookie_headers):
        return cookie_headers
    return [*SESSION_HEADERS, *cookie_headers]


def __getattr__(name: str) -> Any:
    # ``Flows`` was renamed; the old name works, with a warning, for one release.
    if name == "Flows":
        warnings.warn(
            "sessionward.flows.Flows is deprecated; use sessionward.flows.SessionFlows",
            DeprecationWarning,
            stacklevel=2,
        )
        return SessionFlows
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
