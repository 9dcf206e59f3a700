"""Flask integration: ``flask.session`` becomes a sessionward session.

::

    from sessionward import SessionManager, SQLiteStore
    from sessionward.integrations.flask import Sessionward, current_session

    app = Flask(__name__)
    Sessionward(app, SessionManager(SQLiteStore("sessions.sqlite3")))

    @app.post("/login")
    def login():
        ...                                   # check the password
        current_session().login(user.id)      # new token; the old one dies at once

The session keeps Flask's dict interface (``session["cart"] = [...]``) and adds sessionward's
operations (``login``, ``rotate``, ``logout``, ``logout_everywhere``, ``sessions``, ``revoke``).
Flask's own cookie settings (``SESSION_COOKIE_*``) are not used: the manager's
:class:`~sessionward.CookieConfig` decides. A store outage answers 503.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

try:
    import flask
    from flask.sessions import NullSession, SessionInterface, SessionMixin
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "sessionward.integrations.flask needs Flask: pip install 'sessionward[flask]'"
    ) from exc

from ..errors import GuessingBlocked, StoreUnavailable
from ..manager import SessionManager
from ..session import Session
from .asgi import merge_headers
from .wsgi import client_from_environ

if TYPE_CHECKING:
    from flask.wrappers import Request, Response

_UNAVAILABLE = "Session store unavailable; please retry shortly.\n"


class FlaskSession(Session, SessionMixin):
    """A sessionward :class:`~sessionward.Session` that Flask accepts as its session."""

    @property
    def new(self) -> bool:  # type: ignore[override]
        return self.is_new

    @property
    def modified(self) -> bool:  # type: ignore[override]
        changed, deleted = self._changes()
        return bool(changed or deleted or self.cookie_changed or self.ended)


class _Unavailable(NullSession):
    """Stands in for the session while the store cannot be reached."""


class SessionwardInterface(SessionInterface):
    """A Flask ``SessionInterface`` over a synchronous :class:`SessionManager`."""

    null_session_class = NullSession

    def __init__(self, manager: SessionManager) -> None:
        if not isinstance(manager, SessionManager):
            raise TypeError("Flask needs a SessionManager (the sync twin) over a sync store")
        self.manager = manager

    def open_session(self, app: flask.Flask, request: Request) -> SessionMixin | None:
        try:
            session = self.manager.load(
                request.headers.get("Cookie"),
                client_from_environ(request.environ),
                session_class=FlaskSession,
            )
        except GuessingBlocked:
            # A blocked guesser presented a session cookie: it is not adopted. (Flask cannot
            # answer from open_session, so the request goes on without a session.)
            return FlaskSession(self.manager, client_from_environ(request.environ))
        except StoreUnavailable as exc:
            app.logger.warning("sessionward: store unavailable while loading a session: %s", exc)
            return _Unavailable()
        return cast(FlaskSession, session)

    def save_session(self, app: flask.Flask, session: SessionMixin, response: Response) -> None:
        if not isinstance(session, FlaskSession):
            return
        try:
            extra = self.manager.commit(session)
        except StoreUnavailable as exc:
            app.logger.warning("sessionward: store unavailable while saving: %s", exc)
            _make_unavailable(response)
            return
        if extra:
            current = [
                (k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()
            ]
            response.headers.clear()
            for name, value in merge_headers(current, extra):
                response.headers.add(name.decode("latin-1"), value.decode("latin-1"))


def _make_unavailable(response: Response) -> None:
    response.status_code = 503
    response.set_data(_UNAVAILABLE)
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    response.headers["Retry-After"] = "5"
    response.headers["Cache-Control"] = "no-store"
    response.headers.pop("Location", None)


def _refuse_when_unavailable() -> Any:
    if isinstance(flask.session._get_current_object(), _Unavailable):  # type: ignore[attr-defined]
        response = flask.make_response(_UNAVAILABLE)
        _make_unavailable(response)
        return response
    return None


class Sessionward:
    """Install sessionward on a Flask app (now, or later with :meth:`init_app`)."""

    def __init__(
        self, app: flask.Flask | None = None, manager: SessionManager | None = None
    ) -> None:
        self.manager = manager
        if app is not None:
            self.init_app(app)

    def init_app(self, app: flask.Flask, manager: SessionManager | None = None) -> None:
        manager = manager or self.manager
        if manager is None:
            raise TypeError("Sessionward needs a SessionManager")
        app.session_interface = SessionwardInterface(manager)
        app.before_request(_refuse_when_unavailable)
        app.extensions["sessionward"] = manager


def current_session() -> FlaskSession:
    """``flask.session``, typed as the sessionward session it is."""
    session = flask.session._get_current_object()  # type: ignore[attr-defined]
    if not isinstance(session, FlaskSession):
        raise RuntimeError("no sessionward session: install Sessionward(app, manager) first")
    return session
