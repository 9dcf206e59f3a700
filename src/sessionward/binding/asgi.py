"""ASGI shell for device-bound sessions: sessions plus DBSC in one pure ASGI middleware.

Use it in place of :class:`~sessionward.integrations.asgi.SessionMiddleware` (it wraps one)::

    DeviceBindingMiddleware(app, manager=manager, binding=DeviceBinding(manager, config))

It answers the registration and refresh endpoints itself, refuses unbound sessions on the
paths the config requires binding for, offers registration after login and expires the bound
cookie on logout. Everything it decides comes from :class:`~sessionward.binding.DeviceBinding`.
"""

from __future__ import annotations

import logging

from ..core.header_merge import merge_headers, raw_headers, text_headers
from ..core.request import view_of_scope
from ..errors import GuessingBlocked, StoreUnavailable
from ..integrations.asgi import (
    ASGIApp,
    ClientResolver,
    Message,
    Receive,
    Scope,
    Send,
    SessionMiddleware,
    client_from_scope,
    cookie_header,
    send_too_many,
    send_unavailable,
)
from ..manager import AsyncSessionManager
from ..sink_dispatch import after_response
from .protocol import RESPONSE, SESSION_ID, BindingRequest, DeviceBinding, Reply

logger = logging.getLogger("sessionward")


def binding_request(scope: Scope) -> BindingRequest:
    view = view_of_scope(scope)
    # The last line of each header counts, as it always has here.
    session_id = view.lines(SESSION_ID.lower())[-1:] or (None,)
    response = view.lines(RESPONSE.lower())[-1:] or (None,)
    return BindingRequest(view.method, view.path, session_id[0], response[0])


async def send_reply(send: Send, reply: Reply, extra: list[tuple[str, str]] | None = None) -> None:
    headers = raw_headers(merge_headers([], [*reply.headers, *(extra or [])]))
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body})


class DeviceBindingMiddleware:
    """Server-side sessions with Device Bound Session Credentials for an ASGI app."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        manager: AsyncSessionManager,
        binding: DeviceBinding,
        client_resolver: ClientResolver = client_from_scope,
    ) -> None:
        if not isinstance(manager, AsyncSessionManager) or binding.manager is not manager:
            raise TypeError(
                "DeviceBindingMiddleware needs the AsyncSessionManager of its DeviceBinding"
            )
        self.app = app
        self.manager = manager
        self.binding = binding
        self.client_resolver = client_resolver
        self.sessions = SessionMiddleware(
            self._guarded, manager=manager, client_resolver=client_resolver
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.sessions(scope, receive, send)
            return
        kind = self.binding.endpoint(scope.get("path", ""))
        if kind is not None:
            async with after_response():  # as SessionMiddleware: the request's events land
                await self._endpoint(kind, scope, send)
            return

        async def send_with_offer(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = self.binding.response_headers(scope.get("session"))
                if extra:
                    message["headers"] = raw_headers(
                        merge_headers(text_headers(message.get("headers", [])), extra)
                    )
            await send(message)

        await self.sessions(scope, receive, send_with_offer)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        session = scope.get("session")
        if scope["type"] == "http" and session is not None:
            refused = self.binding.requirement(session, scope.get("path", ""))
            if refused is not None:
                await send_reply(send, refused)
                return
        await self.app(scope, receive, send)

    async def _endpoint(self, kind: str, scope: Scope, send: Send) -> None:
        client = self.client_resolver(scope)
        try:
            # Ungated: the refresh comes exactly when the bound cookie has expired.
            session = await self.manager.load(cookie_header(scope), client, gated=False)
            reply = await self.manager._run(
                self.binding.handle(kind, session, binding_request(scope))
            )
            if reply.status >= 500:
                extra = self.manager.failed_response_headers(session)
            else:
                extra = await self.manager.commit(session)
        except GuessingBlocked as blocked:
            await send_too_many(send, blocked.retry_after, blocked.headers)
            return
        except StoreUnavailable as exc:
            # A 5xx makes the browser back off and keep its session, unlike a 4xx.
            logger.warning("sessionward: store unavailable during device binding: %s", exc)
            await send_unavailable(send)
            return
        await send_reply(send, reply, extra)
