"""Flask-Login over sessionward: one login, one logout, one source of truth for the user.

::

    from flask_login import LoginManager
    from sessionward.integrations.flask.login import SessionwardLogin, login_user, logout_user

    login_manager = LoginManager(app)
    SessionwardLogin(app, login_manager)

- :func:`login_user` performs sessionward's login (a new token, the old one dead at once; the
  user recorded on the session, so the per-user limit, "active sessions" and revocation work;
  audit events), then Flask-Login's.
- ``current_user`` comes from the sessionward session's user. A ``_user_id`` in the session
  that sessionward did not log in (written by hand, left over) is dropped, never trusted.
- :func:`logout_user` is sessionward's logout (record destroyed, cookie cleared), then
  Flask-Login's; later writes (a ``flash()``) land in a fresh anonymous session.
- Remember-me is refused. Flask-Login's remember cookie is a signed user id that lives on its
  own: it would log a user back in after an operator revoked their sessions. ``login_user(...,
  remember=True)`` raises ``ValueError``; the cookie is never set and never honoured (an old one
  is cleared). For "stay signed in", use ``session.permanent = True`` within the policy's
  timeouts.
"""

from __future__ import annotations

from typing import Any

try:
    import flask_login
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "sessionward.integrations.flask.login needs Flask-Login: "
        "pip install 'sessionward[flask-login]'"
    ) from exc

import flask

from . import current_session

__all__ = ["SessionwardLogin", "confirm_login", "login_user", "logout_user"]

_REMEMBER_REFUSED = (
    "remember-me is refused under sessionward: Flask-Login's remember cookie would log a user "
    "back in after their sessions were revoked. Use session.permanent = True (a persistent "
    "session cookie, still bounded by the policy's idle and absolute timeouts) instead."
)
_FLASK_LOGIN_KEYS = ("_user_id", "_fresh", "_id")


class SessionwardLogin:
    """Tie a Flask-Login ``LoginManager`` to sessionward (install after ``Sessionward``)."""

    def __init__(
        self,
        app: flask.Flask | None = None,
        login_manager: flask_login.LoginManager | None = None,
    ) -> None:
        self.login_manager = login_manager
        if app is not None:
            self.init_app(app, login_manager)

    def init_app(
        self, app: flask.Flask, login_manager: flask_login.LoginManager | None = None
    ) -> None:
        manager = login_manager or self.login_manager or getattr(app, "login_manager", None)
        if manager is None:
            raise TypeError("SessionwardLogin needs Flask-Login's LoginManager(app) first")
        if "sessionward" not in app.extensions:
            raise TypeError("install Sessionward(app, manager) before SessionwardLogin")
        load_user = manager._load_user

        def load_from_sessionward() -> Any:
            _align_with_sessionward()
            return load_user()

        # Flask-Login reads its user id from the session; sessionward's record decides it.
        manager._load_user = load_from_sessionward
        manager._load_user_from_remember_cookie = _no_remember
        manager._set_cookie = manager._clear_cookie
        app.extensions["sessionward.login"] = self


def _no_remember(cookie: str) -> None:
    # A remember cookie (from before the bridge, or set by hand) is never honoured; Flask-Login
    # then sees no user and its after-request hook clears the cookie.
    flask.session["_remember"] = "clear"


def _align_with_sessionward() -> None:
    session = current_session()
    user_id = session.user_id
    if flask.session.get("_user_id") == user_id:
        return
    if user_id is None:
        for key in _FLASK_LOGIN_KEYS:
            flask.session.pop(key, None)
    else:
        flask.session["_user_id"] = user_id


def login_user(
    user: Any, remember: bool = False, duration: Any = None, force: bool = False, fresh: bool = True
) -> bool:
    """Flask-Login's ``login_user`` on a new sessionward token; ``False`` for inactive users."""
    if remember or duration is not None:
        raise ValueError(_REMEMBER_REFUSED)
    if not force and not user.is_active:
        return False
    manager = flask.current_app.login_manager  # type: ignore[attr-defined]
    user_id = str(getattr(user, manager.id_attribute)())
    current_session().login(user_id)
    return bool(flask_login.login_user(user, force=force, fresh=fresh))


def logout_user() -> bool:
    """sessionward's logout (token dead, cookie cleared), then Flask-Login's."""
    current_session().logout()
    return bool(flask_login.logout_user())


def confirm_login() -> None:
    """The user re-entered their password: sessionward's re-authentication, a fresh login."""
    current_session().reauthenticate()
    flask_login.confirm_login()
