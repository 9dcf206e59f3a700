"""WSGI shell for device-bound sessions, and the sync calls other WSGI integrations reuse.

:class:`WSGIDeviceBindingMiddleware` wraps
:class:`~sessionward.integrations.wsgi.WSGISessionMiddleware` the way the ASGI shell wraps the
ASGI one. A framework that loads sessions itself (Flask, Django) wraps its WSGI app in
:class:`DBSCEndpoints`, which answers only the two endpoint paths, calls
:meth:`DeviceBinding.requirement` before the view and adds
:meth:`DeviceBinding.response_headers` to the response (see :mod:`sessionward.binding.flask`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from ..core.client import ClientInfo
from ..core.header_merge import merge_headers
from ..core.request import view_of_environ
from ..errors import GuessingBlocked, StoreUnavailable
from ..integrations.wsgi import (
    ENVIRON_KEY,
    Environ,
    StartResponse,
    WSGIApp,
    WSGISessionMiddleware,
    client_from_environ,
)
from ..manager import SessionManager
from .protocol import RESPONSE, SESSION_ID, BindingRequest, DeviceBinding, Reply

logger = logging.getLogger("sessionward")
_UNAVAILABLE = Reply(
    503,
    [
        ("content-type", "text/plain; charset=utf-8"),
        ("retry-after", "5"),
        ("cache-control", "no-store"),
    ],
    b"Session store unavailable; please retry shortly.\n",
)


def binding_request(environ: Environ) -> BindingRequest:
    view = view_of_environ(environ)
    return BindingRequest(
        view.method,
        environ.get("PATH_INFO", ""),  # the endpoints are matched below SCRIPT_NAME
        view.header(SESSION_ID.lower()),
        view.header(RESPONSE.lower()),
    )


def handle_endpoint(
    binding: DeviceBinding,
    manager: SessionManager,
    kind: str,
    cookie_header: str | bytes | None,
    client: ClientInfo,
    request: BindingRequest,
) -> Reply:
    """Answer the registration or refresh endpoint through the sync manager."""
    try:
        session = manager.load(cookie_header, client, gated=False)
        reply = manager._run(binding.handle(kind, session, request))
        if reply.status >= 500:
            extra = manager.failed_response_headers(session)
        else:
            extra = manager.commit(session)
    except GuessingBlocked as blocked:
        return Reply(
            429, [("retry-after", str(max(1, int(blocked.retry_after) + 1))), *blocked.headers]
        )
    except StoreUnavailable as exc:
        logger.warning("sessionward: store unavailable during device binding: %s", exc)
        return _UNAVAILABLE
    return Reply(reply.status, [*reply.headers, *extra], reply.body)


def _status(code: int) -> str:
    return f"{code} {HTTPStatus(code).phrase}"


def _start(start_response: StartResponse, reply: Reply) -> list[bytes]:
    start_response(_status(reply.status), _text_headers(reply.headers))
    return [reply.body]


def _text_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return merge_headers([], headers)


class DBSCEndpoints:
    """Answers the registration and refresh endpoints; passes every other request through.

    For frameworks with their own session handling: the endpoints must be answered before the
    framework loads the session, since a refresh arrives exactly when the bound cookie expired.
    """

    def __init__(
        self,
        app: WSGIApp,
        *,
        binding: DeviceBinding,
        client_resolver: Callable[[Environ], ClientInfo] = client_from_environ,
    ) -> None:
        if not isinstance(binding.manager, SessionManager):
            raise TypeError("DBSCEndpoints needs a DeviceBinding over a SessionManager")
        self.app = app
        self.binding = binding
        self.manager: SessionManager = binding.manager
        self.client_resolver = client_resolver

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        request = binding_request(environ)
        kind = self.binding.endpoint(request.path)
        if kind is None:
            return self.app(environ, start_response)
        reply = handle_endpoint(
            self.binding,
            self.manager,
            kind,
            view_of_environ(environ).cookie,
            self.client_resolver(environ),
            request,
        )
        return _start(start_response, reply)


class WSGIDeviceBindingMiddleware:
    """Server-side sessions with Device Bound Session Credentials for a WSGI app."""

    def __init__(
        self,
        app: WSGIApp,
        *,
        manager: SessionManager,
        binding: DeviceBinding,
        client_resolver: Callable[[Environ], ClientInfo] = client_from_environ,
    ) -> None:
        if not isinstance(manager, SessionManager) or binding.manager is not manager:
            raise TypeError("WSGIDeviceBindingMiddleware needs the SessionManager of its binding")
        self.app = app
        self.manager = manager
        self.binding = binding
        self.client_resolver = client_resolver
        self.sessions = WSGISessionMiddleware(
            self._guarded, manager=manager, client_resolver=client_resolver
        )
        self.endpoints = DBSCEndpoints(
            self._with_offer, binding=binding, client_resolver=client_resolver
        )

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        return self.endpoints(environ, start_response)

    def _with_offer(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        def start_with_offer(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            extra = self.binding.response_headers(environ.get(ENVIRON_KEY))
            return start_response(status, [*headers, *extra], exc_info)

        return self.sessions(environ, start_with_offer)

    def _guarded(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        session = environ.get(ENVIRON_KEY)
        if session is not None:
            refused = self.binding.requirement(session, environ.get("PATH_INFO", ""))
            if refused is not None:
                return _start(start_response, refused)
        return self.app(environ, start_response)
