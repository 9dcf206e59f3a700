"""Flask integration: ``flask.session`` becomes a sessionward session.

::

    from flask import Flask
    from sessionward import SessionManager, SQLiteStore
    from sessionward.integrations.flask import Sessionward, current_session

    app = Flask(__name__)
    Sessionward(app, SessionManager(SQLiteStore("sessions.sqlite3")))

    @app.post("/login")
    def login():
        # ... check the password ...
        current_session().login("alice")      # new token; the old one dies at once
        return "welcome"

The session keeps Flask's dict interface (``session["cart"] = [...]``, ``modified``,
``permanent``, ``flash()``) and adds sessionward's operations (``login``, ``rotate``, ``logout``,
``logout_everywhere``, ``sessions``, ``revoke``). See docs/frameworks.md for how Flask's
settings are honoured.
"""

from __future__ import annotations

try:
    import flask
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "sessionward.integrations.flask needs Flask: pip install 'sessionward[flask]'"
    ) from exc

from werkzeug.exceptions import ServiceUnavailable

from ...errors import StoreUnavailable
from ...manager import SessionManager
from ..wsgi import client_from_environ
from .interface import STORE_RETRY_AFTER, ClientResolver, FlaskSession, SessionwardInterface

__all__ = ["FlaskSession", "Sessionward", "SessionwardInterface", "current_session"]


class Sessionward:
    """Install sessionward on a Flask app (now, or later with :meth:`init_app`).

    ``client_resolver`` finds the client's address behind proxies, e.g.
    ``TrustedProxies(["10.0.0.0/8"]).wsgi``; by default the peer address is the client.
    """

    def __init__(
        self,
        app: flask.Flask | None = None,
        manager: SessionManager | None = None,
        *,
        client_resolver: ClientResolver = client_from_environ,
    ) -> None:
        self.manager = manager
        self.client_resolver = client_resolver
        if app is not None:
            self.init_app(app)

    def init_app(self, app: flask.Flask, manager: SessionManager | None = None) -> None:
        """Install on ``app``; refuses ``SESSION_COOKIE_*`` settings it cannot honour."""
        manager = manager or self.manager
        if manager is None:
            raise TypeError("Sessionward needs a SessionManager")
        interface = SessionwardInterface(manager, client_resolver=self.client_resolver)
        interface.apply_settings(app)  # a ConfigurationError here names the setting
        app.session_interface = interface
        app.register_error_handler(StoreUnavailable, _store_unavailable)
        app.extensions["sessionward"] = manager


def _store_unavailable(exc: StoreUnavailable) -> ServiceUnavailable:
    # A session operation in a view (login, logout, revoke) could not reach the store: a 503
    # the client may retry, not a 500.
    flask.current_app.logger.warning("sessionward: store unavailable in a view: %s", exc)
    return ServiceUnavailable(
        "Session store unavailable; please retry shortly.", retry_after=STORE_RETRY_AFTER
    )


def current_session() -> FlaskSession:
    """``flask.session``, typed as the sessionward session it is."""
    session = flask.session._get_current_object()  # type: ignore[attr-defined]
    if not isinstance(session, FlaskSession):
        if not flask.current_app.secret_key:
            # As in Flask itself: no SECRET_KEY, no session. Say so rather than blame the set-up.
            raise RuntimeError(
                "the session is unavailable because no SECRET_KEY is set: set app.secret_key "
                "(Flask requires it for sessions; sessionward uses it for nothing else)"
            )
        raise RuntimeError("no sessionward session: install Sessionward(app, manager) first")
    return session
