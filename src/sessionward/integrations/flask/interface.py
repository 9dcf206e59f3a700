"""Flask's ``SessionInterface`` over a synchronous :class:`~sessionward.SessionManager`.

Flask opens the session for every request. sessionward only *defers* the load: the store is
read at the first use of ``flask.session`` in the request, so a route (or a static file) that
never touches the session costs no store read, gets no ``Cache-Control: no-store`` and no
``Vary: Cookie``, and sends no cookie.

Flask cannot answer from ``open_session``; because the load happens at first use, a refused
load answers there instead, as an ordinary HTTP error the app's error handlers see: 429 with
``Retry-After`` for a client blocked for guessing session IDs, 503 when the store is down.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import flask
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.exceptions import ServiceUnavailable, TooManyRequests

from ...core.client import ClientInfo
from ...core.codec import TAGGED_CODEC
from ...core.cookies import CookieConfig
from ...core.header_merge import merge_headers
from ...core.records import SessionRecord
from ...core.request import view_of_environ
from ...errors import GuessingBlocked, StoreUnavailable
from ...manager import SessionManager
from ...session import Adopted, Session
from ..wsgi import client_from_environ
from .settings import cookie_config, settings_of

if TYPE_CHECKING:
    from flask.wrappers import Request, Response

ClientResolver = Callable[[dict[str, Any]], ClientInfo]
STORE_RETRY_AFTER = 5


class FlaskSession(Session, SessionMixin):
    """A sessionward :class:`~sessionward.Session` that Flask accepts as its session.

    ``modified`` may be set, as Flask documents (``session.modified = True`` after changing a
    nested value; sessionward also notices such changes itself). ``permanent`` (Flask's flag,
    stored in the session) chooses a persistent cookie; otherwise the cookie is a
    browser-session cookie. The server-side idle and absolute timeouts hold either way.

    Values use the tagged codec whatever the policy says: Flask's own session keeps tuples
    (``flash()`` stores them), ``Markup``, ``bytes``, ``datetime`` and ``UUID``, and Flask code
    expects them back (see :mod:`sessionward.core.codec`; never pickle).
    """

    _force_modified = False
    _cookie_header: str | None = None

    def __init__(self, manager: SessionManager, client: ClientInfo) -> None:
        super().__init__(manager, client)
        self._codec = TAGGED_CODEC

    #: Set when the load was refused (429/503): nothing is saved for this request.
    refused = False
    #: Headers the refusal adds to the error response (the dead cookie's expiry).
    refused_headers: tuple[tuple[str, str], ...] = ()

    @property
    def new(self) -> bool:  # type: ignore[override]
        return self.is_new

    @property
    def modified(self) -> bool:
        if self._force_modified or self.cookie_changed or self.ended:
            return True
        if not self.loaded:
            return False
        deleted = any(k not in self._data for k in self._original)
        return deleted or any(self._original.get(k, _MISSING) != v for k, v in self._data.items())

    @modified.setter
    def modified(self, value: bool) -> None:
        self._force_modified = bool(value)


_MISSING = object()


class SessionwardInterface(SessionInterface):
    """Installed by :class:`~sessionward.integrations.flask.Sessionward`; rarely used directly."""

    def __init__(
        self, manager: SessionManager, *, client_resolver: ClientResolver = client_from_environ
    ) -> None:
        if not isinstance(manager, SessionManager):
            raise TypeError("Flask needs a SessionManager (the sync twin) over a sync store")
        self.manager = manager
        self.client_resolver = client_resolver
        self._base_cookie: CookieConfig = manager.cookie
        self._settings: tuple[Any, ...] | None = None

    def apply_settings(self, app: flask.Flask) -> None:
        """Apply the app's ``SESSION_COOKIE_*`` settings (again, if they changed)."""
        current = settings_of(app.config)
        if current != self._settings:
            self.manager.flows.cookie = cookie_config(self._base_cookie, app.config)
            self._settings = current

    def open_session(self, app: flask.Flask, request: Request) -> FlaskSession | None:
        if not app.secret_key:
            # Flask's rule, kept so an app behaves the same with or without sessionward: no
            # SECRET_KEY, no session (Flask's null session says so on first write). sessionward
            # does not use the key; flash(), Flask-Login and Flask-WTF do.
            return None
        self.apply_settings(app)
        client = self.client_resolver(request.environ)
        session = FlaskSession(self.manager, client)
        cookie = view_of_environ(request.environ).cookie
        header = cookie if isinstance(cookie, str) else None  # WSGI: always text
        if header:
            session._cookie_header = header
            session._defer(self._loader(app, session, header, client))
        return session

    def _loader(
        self, app: flask.Flask, session: FlaskSession, header: str, client: ClientInfo
    ) -> Callable[[], tuple[SessionRecord | None, str | None]]:
        def load() -> tuple[SessionRecord | None, str | None]:
            try:
                return self.manager.load_record(header, client)
            except GuessingBlocked as blocked:
                session.refused = True
                # The 429 also expires the dead cookie (save_session adds it), so the next
                # request, without a cookie, reaches the login page.
                session.refused_headers = blocked.headers
                raise TooManyRequests(
                    "Too many invalid session cookies from your address; please retry later.",
                    retry_after=max(1, math.ceil(blocked.retry_after)),
                ) from None
            except StoreUnavailable as exc:
                app.logger.warning("sessionward: store unavailable while loading: %s", exc)
                session.refused = True
                raise ServiceUnavailable(
                    "Session store unavailable; please retry shortly.",
                    retry_after=STORE_RETRY_AFTER,
                ) from None

        return load

    def save_session(self, app: flask.Flask, session: SessionMixin, response: Response) -> None:
        if not isinstance(session, FlaskSession):
            return
        if session.refused:
            response.headers["Cache-Control"] = "no-store"
            for header, text in session.refused_headers:
                response.headers.add(header, text)
            return
        refresh = bool(app.config.get("SESSION_REFRESH_EACH_REQUEST", True))
        failed = response.status_code >= 500  # the rule of every shell: a 5xx saves nothing
        if not session.loaded and (failed or not (refresh and self._load_to_refresh(app, session))):
            return
        self.apply_settings(app)
        # Read without marking the session accessed: only the app's own use does that.
        session.persistent = bool(session._data.get("_permanent", False))
        if session.persistent != bool(session._original.get("_permanent", False)):
            session.cookie_changed = True  # the cookie's kind changed: send it again
        session.cookie_lifetime = app.permanent_session_lifetime.total_seconds()
        session.refresh_cookie = refresh
        if session._force_modified and session.record is not None:
            session.cookie_changed = True  # Flask's "save it": re-send the cookie
        try:
            if failed:
                extra = self.manager.failed_response_headers(session)
            else:
                extra = self.manager.commit(session)
        except StoreUnavailable as exc:
            app.logger.warning("sessionward: store unavailable while saving: %s", exc)
            make_unavailable(response)
            return
        if extra:
            current = list(response.headers.items())
            merged = merge_headers(current, extra)
            if merged[: len(current)] == current:  # the usual case: ours only appended
                del merged[: len(current)]
            else:
                response.headers.clear()
            for name, value in merged:
                response.headers.add(name, value)

    def _load_to_refresh(self, app: flask.Flask, session: FlaskSession) -> bool:
        """SESSION_REFRESH_EACH_REQUEST for a request that did not use the session.

        Flask refreshes a session on every request, used or not: activity keeps it alive. The
        record is read (not marked accessed) so the commit can touch it when the touch interval
        has passed; only then does the response carry headers. A refused load is skipped.
        """
        header = session._cookie_header
        if header is None:
            return False
        try:
            record, token = self.manager.load_record(header, session.client)
        except (GuessingBlocked, StoreUnavailable) as exc:
            app.logger.debug("sessionward: no refresh for this request: %r", exc)
            return False
        if record is None or token is None:
            session._defer(lambda: (None, None))
            session._resolve()
            return False
        session.apply(Adopted(record, token))
        return True


def make_unavailable(response: Response) -> None:
    """Turn ``response`` into the 503 a store outage answers."""
    response.status_code = 503
    response.set_data("Session store unavailable; please retry shortly.\n")
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    response.headers["Retry-After"] = str(STORE_RETRY_AFTER)
    response.headers["Cache-Control"] = "no-store"
    response.headers.pop("Location", None)
