"""CSRF protection as a Flask extension, over ``flask.session`` (no second session, no wrapping).

::

    csrf = CSRFProtect(app, keys=SecretKeyRing([os.environ["CSRF_SECRET"]]))

    # in a template:  <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">

    @app.post("/webhook")
    @csrf.exempt                     # authenticated another way
    def webhook(): ...

Every unsafe request (POST, PUT, PATCH, DELETE...) is checked unless its view is exempt: the
request must come from our own origin (Fetch Metadata, then ``Origin``, then ``Referer`` over
HTTPS) and carry a token bound to the session, in the ``csrf_token`` form field or the
``X-CSRF-Token`` header. Without it, a page on another site could make the user's browser post
a form here with the user's cookies. A refused request answers 403 and is audited.

The checks are sessionward's CSRF core; this module only reads them from Flask's request.
The session is ``flask.session`` itself, loaded once, and the session cookie is written once,
by the session interface. A GET that renders no token loads nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import flask

from ...core import csrf
from ...core.events import EventKind
from ...core.keys import SecretKeyRing
from ...core.request import view_of_environ
from ...errors import ConfigurationError
from .._csrf_state import CSRFState, make_config, needs_check, open_state, presession_cookie
from . import current_session

__all__ = ["CSRFProtect", "csrf_token"]

F = TypeVar("F", bound=Callable[..., Any])
_G_KEY = "_sessionward_csrf"
_EXEMPT_ATTR = "_sessionward_csrf_exempt"


class CSRFProtect:
    """Protect every unsafe request of a Flask app; install after ``Sessionward``."""

    def __init__(
        self,
        app: flask.Flask | None = None,
        *,
        keys: SecretKeyRing,
        origin: str | None = None,
        trusted_origins: Iterable[str] = (),
        exempt: Iterable[str] = (),
    ) -> None:
        self.config = make_config(keys, origin, trusted_origins, exempt, 1024 * 1024)
        if app is not None:
            self.init_app(app)

    def init_app(self, app: flask.Flask) -> None:
        manager = app.extensions.get("sessionward")
        if manager is None:
            raise ConfigurationError("install Sessionward(app, manager) before CSRFProtect(app)")
        self.manager = manager
        self.cookie = presession_cookie(manager.cookie)
        app.before_request(self._protect)
        app.after_request(self._headers)
        app.context_processor(lambda: {"csrf_token": csrf_token})
        app.extensions["sessionward.csrf"] = self

    def exempt(self, view: F) -> F:
        """Decorator: this view skips the CSRF checks (authenticate it some other way)."""
        setattr(view, _EXEMPT_ATTR, True)
        return view

    def _state(self) -> CSRFState:
        state = flask.g.get(_G_KEY)
        if not isinstance(state, CSRFState):
            view = view_of_environ(flask.request.environ)
            state = open_state(self.config, self.cookie, self.manager, current_session(), view)
            setattr(flask.g, _G_KEY, state)
        return state

    def _protect(self) -> Any:
        request = flask.request
        seen = view_of_environ(request.environ)
        if not needs_check(self.config, seen):
            return None
        view = flask.current_app.view_functions.get(request.endpoint or "")
        if getattr(view, _EXEMPT_ATTR, False):
            return None
        state = self._state()
        reason = csrf.check_source(
            request.method,
            app_origin=self.config.origin or csrf.origin_of(request.scheme, request.host),
            trusted=self.config.trusted_origins,
            secure=request.scheme == "https",
            sec_fetch_site=seen.sec_fetch_site,
            origin=seen.origin,
            referer=seen.referer,
        )
        if reason is None:
            presented = seen.header(csrf.HEADER_NAME)
            if presented is None and request.mimetype in (
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            ):
                presented = request.form.get(csrf.FIELD_NAME)
            reason = state.verify(presented)
        if reason is None:
            return None
        session = state.session
        self.manager.emit(
            EventKind.CSRF_REJECTED,
            client=session.client,
            reason=reason.value,
            user_id=state.user_id,
            method=request.method[:16],
            path=request.path[:200],
            handle=session.handle,
            origin=(seen.origin or "")[:200] or None,
            sec_fetch_site=(seen.sec_fetch_site or "")[:32] or None,
        )
        content_type, body = csrf.rejection(reason, seen.header("accept"))
        return flask.Response(
            body, status=403, content_type=content_type, headers={"Cache-Control": "no-store"}
        )

    def _headers(self, response: flask.Response) -> flask.Response:
        state = flask.g.get(_G_KEY)
        if isinstance(state, CSRFState):
            for name, value in state.response_headers():
                if name == "cache-control":
                    response.headers["Cache-Control"] = value
                else:
                    response.headers.add(name, value)
        return response


def csrf_token() -> str:
    """A fresh masked token for a form or a script (``{{ csrf_token() }}`` in Jinja)."""
    protect = flask.current_app.extensions.get("sessionward.csrf")
    if not isinstance(protect, CSRFProtect):
        raise ConfigurationError("csrf_token() needs CSRFProtect(app, keys=...) installed")
    return protect._state().token()
