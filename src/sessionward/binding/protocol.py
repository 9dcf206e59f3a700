"""The DBSC protocol, written once: decisions and flows that shells (ASGI, WSGI) only drive.

Binding state lives in the session record's ``meta["dbsc"]``, which every store persists
atomically with the record, so any instance can serve the refresh of a session bound on
another. The DBSC session identifier is the session's public handle (never the token).

Single use of challenges: the state keeps ``floor`` (the issue time of the newest challenge
accepted) and the nonces accepted at that time. A proof is accepted only for a challenge issued
at or after ``floor`` whose nonce is not recorded, so a replayed proof (or an older challenge
answered late) gets a 403 with a fresh challenge, which the browser signs and retries.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..calls import Flow, StoreCall
from ..core import lifecycle
from ..core.client import ClientInfo
from ..core.cookies import CookieConfig, dump_cookie, expire_cookie, find_cookie
from ..core.events import EventKind
from ..core.records import SessionRecord
from ..core.session_tokens import is_well_formed_handle
from ..errors import ConfigurationError
from ..session import BaseSession, Saved
from ..stores.base import RecordUpdate
from . import challenge as challenges
from .config import BindingConfig
from .fields import parse_string_item, registration_entry, string_item
from .proof import ProofError, verify_refresh, verify_registration
from .state import META, BindingState, binding_state

if TYPE_CHECKING:
    from ..manager import AsyncSessionManager, SessionManager

REGISTRATION = "Secure-Session-Registration"
CHALLENGE = "Secure-Session-Challenge"
RESPONSE = "Secure-Session-Response"
SESSION_ID = "Sec-Secure-Session-Id"
_RECENT_NONCES = 8
Headers = list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class BindingRequest:
    """The plain values of a request that the endpoints read (built once by each shell)."""

    method: str
    path: str
    session_id: str | bytes | None = None
    response: str | bytes | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """A response for a shell to send as is."""

    status: int
    headers: Headers = field(default_factory=list)
    body: bytes = b""


def cookie_attributes(cookie: CookieConfig) -> str:
    """The ``attributes`` of the session-configuration credential, matching the Set-Cookie."""
    parts = [f"Path={cookie.path}"]
    if cookie.domain is not None:
        parts.append(f"Domain={cookie.domain}")
    if cookie.secure:
        parts.append("Secure")
    if cookie.http_only:
        parts.append("HttpOnly")
    parts.append(f"SameSite={cookie.same_site.capitalize()}")
    return "; ".join(parts)


def _json(status: int, body: Mapping[str, Any], headers: Headers | None = None) -> Reply:
    base = [("content-type", "application/json"), ("cache-control", "no-store")]
    text = json.dumps(body, separators=(",", ":")).encode("utf-8")
    return Reply(status, [*base, *(headers or [])], text)


class DeviceBinding:
    """DBSC for one session manager: the load gate, the offer, and the two endpoint flows.

    Creating it installs its gate on ``manager``: from then on a bound session presented
    without a valid bound cookie loads as a new, empty session (never as authenticated), and
    a ``binding.mismatch`` event is recorded.
    """

    def __init__(
        self, manager: SessionManager | AsyncSessionManager, config: BindingConfig
    ) -> None:
        if not isinstance(config, BindingConfig):
            raise ConfigurationError("DeviceBinding needs a BindingConfig")
        if config.cookie.wire_name == manager.cookie.wire_name:
            raise ConfigurationError(
                "the bound cookie must not share the session cookie's name; "
                "pass BindingConfig(cookie=CookieConfig(name='bound'))"
            )
        self.manager = manager
        self.config = config
        self.flows = manager.flows
        manager.add_load_gate(self.gate)

    # -- decisions ----------------------------------------------------------------------

    def gate(self, record: SessionRecord, cookies: str | bytes | None, client: ClientInfo) -> bool:
        state = binding_state(record)
        if state is None:
            return True
        lookup = find_cookie(cookies, self.config.cookie.wire_name)
        if lookup.value is None:
            verdict = "duplicate" if lookup.duplicate else "missing"
        else:
            verdict = challenges.bound_cookie_valid(
                self.config.keys,
                lookup.value,
                record.handle,
                state.thumbprint,
                self.flows.clock.now(),
            )
        if verdict == "valid":
            return True
        # The browser refreshes an expired bound cookie before it sends the request, so this
        # is a client without the device key (a copied cookie) or a failed refresh.
        self.flows.observer.emit(
            EventKind.BINDING_MISMATCH, client=client, record=record, reason=f"cookie_{verdict}"
        )
        return False

    def is_bound(self, session: BaseSession) -> bool:
        return binding_state(session.record) is not None

    def endpoint(self, path: str) -> str | None:
        if path == self.config.registration_path:
            return "register"
        if path == self.config.refresh_path:
            return "refresh"
        return None

    def response_headers(self, session: BaseSession | None) -> Headers:
        """Headers for an ordinary response: the registration offer, or the bound cookie's end."""
        if session is None:
            return []
        if session.ended:
            return [("set-cookie", expire_cookie(self.config.cookie))]
        record = session.record
        if record is None or record.user_id is None or self.config.offer == "never":
            return []
        if binding_state(record) is not None:
            return []
        # "login": whenever this response hands out a new session token (login, and the
        # re-authentication that starts a record without the old binding).
        if self.config.offer == "login" and not session.cookie_changed:
            return []
        return [(REGISTRATION.lower(), self.offer(record))]

    def offer(self, record: SessionRecord) -> str:
        """A ``Secure-Session-Registration`` value with a fresh registration challenge."""
        value = challenges.issue_challenge(
            self.config.keys, record.handle, "register", self.flows.clock.now()
        )
        return registration_entry(
            self.config.algorithms, path=self.config.registration_path, challenge=value
        )

    def requirement(self, session: BaseSession, path: str) -> Reply | None:
        """A 403 when ``path`` requires binding and an authenticated session is unbound."""
        record = session.record
        if record is None or record.user_id is None or not self.config.requires_binding(path):
            return None
        if binding_state(record) is not None:
            return None
        self._fail(session, record, "binding_required")
        return Reply(
            403,
            [("content-type", "text/plain; charset=utf-8"), ("cache-control", "no-store")],
            b"This page needs a device-bound session; sign in again from a browser with DBSC.\n",
        )

    # -- the endpoints, as flows of store calls ------------------------------------------

    def handle(self, kind: str, session: BaseSession, request: BindingRequest) -> Flow[Reply]:
        if request.method != "POST":
            return Reply(405, [("allow", "POST"), ("cache-control", "no-store")])
        if kind == "register":
            return (yield from self._register(session, request))
        return (yield from self._refresh(session, request))

    def _register(self, session: BaseSession, request: BindingRequest) -> Flow[Reply]:
        now = self.flows.clock.now()
        record = session.record
        if record is None or record.user_id is None:
            return self._fail(session, None, "no_session", 401)
        if binding_state(record) is not None:
            return self._fail(session, record, "already_bound", 409, mismatch=True)
        token = parse_string_item(request.response)
        if token is None:
            return self._fail(session, record, "malformed", 400)
        try:
            proof = verify_registration(token, self.config.algorithms)
        except ProofError as exc:
            return self._fail(session, record, exc.reason, 400)
        check = challenges.check_challenge(
            self.config.keys,
            proof.challenge,
            record.handle,
            "register",
            now,
            self.config.challenge_ttl,
        )
        if check.issued_ms is None:
            return self._fail(session, record, check.reason or "challenge_invalid", 400)
        state = BindingState(
            proof.alg, proof.jwk, proof.thumbprint, now, now, check.issued_ms, (check.nonce,)
        )
        updated: SessionRecord | None = yield StoreCall(
            "update", (record.key, RecordUpdate(set_meta={META: state.as_meta()}))
        )
        if updated is None:
            return self._fail(session, record, "no_session", 401)
        session.apply(Saved(updated))
        self.flows.observer.emit(
            EventKind.BINDING_REGISTERED, client=session.client, record=updated, alg=proof.alg
        )
        return self._issue(updated, state, now)

    def _refresh(self, session: BaseSession, request: BindingRequest) -> Flow[Reply]:
        now = self.flows.clock.now()
        session_id = parse_string_item(request.session_id)
        if session_id is None or not is_well_formed_handle(session_id):
            return self._fail(session, session.record, "malformed", 400)
        record = session.record
        if record is None or record.user_id is None:
            # Logged out, revoked or expired: tell the browser to drop its DBSC session.
            self._fail(session, None, "no_session")
            return _json(200, {"session_identifier": session_id, "continue": False})
        if record.handle != session_id:
            return self._fail(session, record, "wrong_session", 400, mismatch=True)
        state = binding_state(record)
        if state is None:
            self._fail(session, record, "not_bound")
            return _json(200, {"session_identifier": session_id, "continue": False})
        if request.response is None:
            return self._challenge(record, 403)
        token = parse_string_item(request.response)
        if token is None:
            return self._fail(session, record, "malformed", 400)
        try:
            proof = verify_refresh(token, state.jwk, state.alg)
        except ProofError as exc:
            status = 401 if exc.reason == "signature" else 400
            return self._fail(
                session, record, exc.reason, status, mismatch=exc.reason == "signature"
            )
        check = challenges.check_challenge(
            self.config.keys,
            proof.challenge,
            record.handle,
            "refresh",
            now,
            self.config.challenge_ttl,
        )
        if check.issued_ms is None:
            reason = check.reason or "challenge_invalid"
            self._fail(session, record, reason)
            # A stale challenge is what a slow but honest browser sends: give it a new one.
            return self._challenge(record, 403 if reason == "challenge_stale" else 400)
        if check.issued_ms < state.floor or (
            check.issued_ms == state.floor and check.nonce in state.nonces
        ):
            self._fail(session, record, "challenge_used")
            return self._challenge(record, 403)
        nonces = (state.nonces if check.issued_ms == state.floor else ()) + (check.nonce,)
        fresh = BindingState(
            state.alg,
            state.jwk,
            state.thumbprint,
            state.bound_at,
            now,
            check.issued_ms,
            nonces[-_RECENT_NONCES:],
        )
        updated: SessionRecord | None = yield StoreCall(
            "update", (record.key, RecordUpdate(set_meta={META: fresh.as_meta()}))
        )
        if updated is None:
            self._fail(session, None, "no_session")
            return _json(200, {"session_identifier": session_id, "continue": False})
        session.apply(Saved(updated))
        self.flows.observer.emit(EventKind.BINDING_REFRESHED, client=session.client, record=updated)
        return self._issue(updated, fresh, now)

    # -- replies ------------------------------------------------------------------------

    def instructions(self, record: SessionRecord) -> dict[str, Any]:
        """The session configuration JSON (registration and refresh answers)."""
        cookie = self.config.cookie
        scope: dict[str, Any] = {"include_site": False}
        if self.config.exclude_paths:
            scope["scope_specification"] = [
                {"type": "exclude", "path": p} for p in self.config.exclude_paths
            ]
        return {
            "session_identifier": record.handle,
            "refresh_url": self.config.refresh_path,
            "scope": scope,
            "credentials": [
                {
                    "type": "cookie",
                    "name": cookie.wire_name,
                    "attributes": cookie_attributes(cookie),
                }
            ],
        }

    def _challenge_header(self, record: SessionRecord) -> tuple[str, str]:
        value = challenges.issue_challenge(
            self.config.keys, record.handle, "refresh", self.flows.clock.now()
        )
        return (CHALLENGE.lower(), string_item(value, id=record.handle))

    def _challenge(self, record: SessionRecord, status: int) -> Reply:
        return Reply(status, [self._challenge_header(record), ("cache-control", "no-store")])

    def _issue(self, record: SessionRecord, state: BindingState, now: float) -> Reply:
        remaining = lifecycle.cookie_max_age(record, self.flows.policy, now)
        max_age = max(0, min(int(self.config.cookie_ttl), remaining))
        value = challenges.mint_bound_cookie(
            self.config.keys, record.handle, state.thumbprint, int(now) + max_age
        )
        headers = [
            ("set-cookie", dump_cookie(self.config.cookie, value, max_age=max_age)),
            # The next refresh can sign this at once instead of asking with a 403 first.
            self._challenge_header(record),
        ]
        return _json(200, self.instructions(record), headers)

    def _fail(
        self,
        session: BaseSession,
        record: SessionRecord | None,
        reason: str,
        status: int = 400,
        *,
        mismatch: bool = False,
    ) -> Reply:
        kind = EventKind.BINDING_MISMATCH if mismatch else EventKind.BINDING_FAILED
        self.flows.observer.emit(kind, client=session.client, record=record, reason=reason)
        return Reply(
            status,
            [("content-type", "text/plain; charset=utf-8"), ("cache-control", "no-store")],
            f"device binding refused: {reason}\n".encode("ascii"),
        )
