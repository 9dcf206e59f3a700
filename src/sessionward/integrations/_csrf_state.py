"""Per-request CSRF state shared by the ASGI and WSGI middlewares, and ``csrf_token()``."""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import TYPE_CHECKING, Any

from ..core import csrf
from ..core.clock import Clock
from ..core.cookies import CookieConfig, dump_cookie, find_cookie
from ..core.events import EventKind
from ..core.keys import SecretKeyRing
from ..core.request import RequestView
from ..errors import ConfigurationError
from ..session import BaseSession

if TYPE_CHECKING:
    from ..manager import AsyncSessionManager, SessionManager

STATE_KEY = "sessionward.csrf"


class CSRFState:
    """Per-request CSRF state, shared by both shells: issues tokens, checks the one presented.

    Tokens are issued lazily (only pages that render a form pay for one) and bound to the
    session's CSRF epoch as it is *when the token is made*, so a token rendered after
    ``login()`` in the same request is already bound to the new session.
    """

    def __init__(
        self,
        config: csrf.CSRFConfig,
        cookie: CookieConfig,
        clock: Clock,
        session: BaseSession,
        cookie_header: str | bytes | None,
    ) -> None:
        self.config = config
        self.cookie = cookie
        self.clock = clock
        self.session = session
        lookup = find_cookie(cookie_header, cookie.wire_name)
        #: A lookalike of the pre-session cookie was sent (cookie tossing): never used; the
        #: shells record it.
        self.tossed = lookup.tossed
        self.nonce = csrf.read_presession(
            config.keys, lookup.value, clock.now(), config.presession_max_age
        )
        self.new_cookie: str | None = None
        self.issued = False

    @property
    def field_name(self) -> str:
        return csrf.FIELD_NAME

    @property
    def header_name(self) -> str:
        return csrf.HEADER_NAME

    @property
    def user_id(self) -> str | None:
        """The session's user, read without marking the session as used."""
        record = self.session.record
        return None if record is None else record.user_id

    def token(self) -> str:
        """A freshly masked token for a form or a script on this response."""
        self.issued = True
        record = self.session.record
        if record is not None:
            epoch = self.session.get(csrf.SESSION_DATA_KEY)
            if not csrf.is_epoch(epoch):
                epoch = csrf.new_epoch(record.key)
                self.session[csrf.SESSION_DATA_KEY] = epoch
            return csrf.issue_token(self.config.keys, csrf.session_binding(epoch))
        if self.nonce is None:
            self.nonce, self.new_cookie = csrf.new_presession(self.config.keys, self.clock.now())
        return csrf.issue_token(self.config.keys, csrf.presession_binding(self.nonce))

    def verify(self, presented: str | bytes | None) -> csrf.Reason | None:
        bindings = []
        record = self.session.record
        epoch = None if record is None else self.session.get(csrf.SESSION_DATA_KEY)
        if csrf.is_epoch(epoch):
            bindings.append(csrf.session_binding(epoch))
        if self.nonce is not None and (record is None or record.user_id is None):
            # The pre-session token covers only the way in (login, sign-up); once the session
            # is authenticated, only tokens bound to it count.
            bindings.append(csrf.presession_binding(self.nonce))
        reason = csrf.verify_token(self.config.keys, presented, bindings)
        if reason is csrf.Reason.TOKEN_INVALID and not bindings:
            return csrf.Reason.NO_BINDING
        return reason

    def response_headers(self) -> list[tuple[str, str]]:
        """Headers for a response that carries a token; ``cache-control`` replaces the app's.

        A page holding a token is personal: a shared cache must never hand it (or the
        pre-session cookie that goes with it) to someone else. The pre-session cookie is set
        when this response bound a token to a new nonce. It is not cleared at login: it is
        useless from then on (see :meth:`verify`) and expires by itself.
        """
        if not self.issued:
            return []
        headers = [("cache-control", "no-store")]
        if self.new_cookie is not None:
            value = dump_cookie(
                self.cookie, self.new_cookie, max_age=self.config.presession_max_age
            )
            headers.append(("set-cookie", value))
        return headers


def presession_cookie(session_cookie: CookieConfig) -> CookieConfig:
    """The pre-session cookie's settings: as secure as the session cookie, SameSite=Strict."""
    return CookieConfig(
        name=csrf.PRESESSION_COOKIE,
        host_prefix=session_cookie.host_prefix,
        secure=session_cookie.secure,
        http_only=True,
        same_site="strict",
    )


def csrf_token(request: Any) -> str:
    """A fresh token for a form, from a Starlette ``Request``, an ASGI scope or WSGI environ."""
    scope = getattr(request, "scope", request)
    state = scope.get(STATE_KEY) if isinstance(scope, MutableMapping) else None
    if not isinstance(state, CSRFState):
        raise ConfigurationError(
            "csrf_token() found no CSRF state on this request; add CSRFMiddleware (ASGI) or "
            "WSGICSRFMiddleware inside the session middleware"
        )
    return state.token()


def make_config(
    keys: SecretKeyRing,
    origin: str | None,
    trusted_origins: Iterable[str],
    exempt: Iterable[str],
    max_body_bytes: int,
) -> csrf.CSRFConfig:
    return csrf.CSRFConfig(
        keys=keys,
        origin=origin,
        trusted_origins=trusted_origins,
        exempt=exempt,
        max_body_bytes=max_body_bytes,
    )


def session_from(mapping: MutableMapping[str, Any], key: str, shell: str) -> BaseSession:
    session = mapping.get(key)
    if not isinstance(session, BaseSession):
        raise ConfigurationError(
            f"{shell} found no sessionward session; place it inside the session middleware "
            f"(the session must be loaded before CSRF is checked)"
        )
    return session


def open_state(
    config: csrf.CSRFConfig,
    cookie: CookieConfig,
    manager: SessionManager | AsyncSessionManager,
    session: BaseSession,
    view: RequestView,
) -> CSRFState:
    """The request's CSRF state, for every shell (ASGI, WSGI, Flask).

    A pre-session cookie whose name is ours only after normalising was planted by a sibling
    host (cookie tossing): it is never used, and recorded here.
    """
    state = CSRFState(config, cookie, manager.flows.clock, session, view.cookie)
    if state.tossed:
        manager.emit(
            EventKind.MALFORMED_ID,
            client=session.client,
            reason="cookie_tossing",
            cookie=cookie.wire_name,
        )
    return state


def needs_check(config: csrf.CSRFConfig, view: RequestView) -> bool:
    """Whether this request must pass the CSRF checks, by the one rule every shell follows.

    Safe methods and exempt paths are not checked, nor a request with no cookie at all that
    authenticates with ``Authorization: Bearer``: it carries no ambient credential to ride on.
    """
    return (
        view.method not in csrf.SAFE_METHODS
        and view.path not in config.exempt
        and not csrf.is_cookieless_bearer(view.cookie, view.authorization)
    )
