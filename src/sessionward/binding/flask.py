"""Device-bound sessions for Flask apps that use :mod:`sessionward.integrations.flask`::

    Sessionward(app, manager)
    bind_flask(app, DeviceBinding(manager, BindingConfig(keys=keys)))

The endpoints are answered in front of Flask (a WSGI wrapper), before Flask opens the session;
enforcement on ``require_paths`` runs before each view and the registration offer (or the bound
cookie's expiry on logout) is added after it. The protocol itself is
:class:`~sessionward.binding.DeviceBinding`'s; nothing here decides anything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

try:
    import flask
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "sessionward.binding.flask needs Flask: pip install 'sessionward[flask]'"
    ) from exc

from ..core.client import ClientInfo
from ..integrations.wsgi import Environ, client_from_environ
from ..session import BaseSession
from .protocol import DeviceBinding
from .wsgi import DBSCEndpoints


def bind_flask(
    app: flask.Flask,
    binding: DeviceBinding,
    *,
    client_resolver: Callable[[Environ], ClientInfo] = client_from_environ,
) -> None:
    """Serve DBSC on ``app`` (after ``Sessionward(app, binding.manager)``)."""
    app.wsgi_app = DBSCEndpoints(  # type: ignore[method-assign]
        app.wsgi_app, binding=binding, client_resolver=client_resolver
    )

    def current() -> BaseSession | None:
        session = flask.session._get_current_object()  # type: ignore[attr-defined]
        return session if isinstance(session, BaseSession) else None

    def require() -> Any:
        session = current()
        refused = None if session is None else binding.requirement(session, flask.request.path)
        if refused is None:
            return None
        return flask.Response(refused.body, refused.status, refused.headers)

    def offer(response: flask.Response) -> flask.Response:
        for name, value in binding.response_headers(current()):
            response.headers.add(name, value)
        return response

    app.before_request(require)
    app.after_request(offer)
