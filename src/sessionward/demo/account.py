"""The demo's account pages: re-authentication, change password, login history, admin, metrics.

==================================  =========================================================
route                               what it shows
==================================  =========================================================
GET/POST /reauth?next=...           re-enter the password; issues a new session token
GET/POST /account/password          change password (needs a recent re-authentication),
                                    optionally ending every other session
GET  /history                       the user's login history from the audit log, new devices
                                    marked
GET  /admin/users                   (admin) users, with disable / enable; disabling ends all
POST /admin/users/{name}/disable    of the user's sessions at once
GET  /metrics                       Prometheus metrics, answered to loopback clients only
==================================  =========================================================

Audit events go to a SQLite audit log in the same file as the sessions; a login from a device
the user has not used before puts a notice on the user's next page (the new-device hook).
"""

from __future__ import annotations

import ipaddress
from collections import deque
from typing import Any

import anyio.to_thread
from prometheus_client import CollectorRegistry
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from sessionward import AsyncSession, AsyncSessionManager, Clock, SQLiteStore
from sessionward.audit import AuditSink, NewDeviceNotifier, SQLiteAuditLog
from sessionward.integrations.reauth import requires_recent_auth, safe_next
from sessionward.metrics import PrometheusSink, active_sessions, render
from sessionward.monitoring import Event, EventKind, EventSink, RevokeReason

from .config import DemoConfig
from .users import UserDirectory

#: Sensitive actions need the password entered within this many seconds.
REAUTH_MAX_AGE = 5 * 60
ADMINS = frozenset({"alice"})
MIN_PASSWORD = 12
MAX_FIELD = 256
HISTORY_KINDS = frozenset(
    {
        EventKind.LOGIN_SUCCEEDED,
        EventKind.LOGIN_FAILED,
        EventKind.NEW_DEVICE,
        EventKind.LOGOUT,
        EventKind.REVOKED,
        EventKind.ANOMALY,
        EventKind.REAUTHENTICATED,
        EventKind.EXPIRED_IDLE,
        EventKind.EXPIRED_ABSOLUTE,
    }
)
LABELS = {
    EventKind.LOGIN_SUCCEEDED: "Signed in",
    EventKind.LOGIN_FAILED: "Failed sign-in",
    EventKind.NEW_DEVICE: "New device",
    EventKind.LOGOUT: "Signed out",
    EventKind.REVOKED: "Session ended",
    EventKind.ANOMALY: "Suspicious activity",
    EventKind.REAUTHENTICATED: "Password confirmed",
    EventKind.EXPIRED_IDLE: "Expired (idle)",
    EventKind.EXPIRED_ABSOLUTE: "Expired (too old)",
}


def reauth_redirect(next_path: str) -> RedirectResponse:
    return RedirectResponse(f"/reauth?next={next_path}", status_code=303)


def _session(request: Request) -> AsyncSession:
    session: AsyncSession = request.session  # type: ignore[assignment]
    return session


class AccountPages:
    """Routes, sinks and template helpers for the monitoring side of the demo."""

    def __init__(self, config: DemoConfig, users: UserDirectory, clock: Clock) -> None:
        self.config = config
        self.users = users
        self.clock = clock
        self.audit = SQLiteAuditLog(config.store_path)
        self.registry = CollectorRegistry()
        counter_store = SQLiteStore(config.store_path)
        self.metrics = PrometheusSink(
            self.registry, active_sessions=active_sessions(counter_store, clock=clock)
        )
        self.notifier = NewDeviceNotifier(self.audit, self.on_new_device)
        self._notices: dict[str, deque[str]] = {}
        self.app: Any = None  # the DemoApp, for render(); set by bind()

    def bind(self, app: Any) -> None:
        self.app = app
        app.templates.globals["pop_notices"] = self.pop_notices
        app.templates.globals["is_admin"] = lambda user: user is not None and user in ADMINS
        app.templates.globals["event_label"] = lambda kind: LABELS.get(kind, str(kind))

    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        response: Response = self.app.render(request, name, status, **context)
        return response

    def sinks(self, given: list[EventSink]) -> list[EventSink]:
        return [*given, AuditSink(self.audit), self.notifier, self.metrics]

    # -- new-device notices -----------------------------------------------------------------

    def on_new_device(self, event: Event) -> None:
        """The notification hook: a real app would send an e-mail here."""
        if event.user_id is None:
            return
        where = f" from {event.ip}" if event.ip else ""
        notice = (
            f"New sign-in to your account on {event.device or 'an unknown device'}{where}. "
            "If this was not you, end that session below and change your password."
        )
        self._notices.setdefault(event.user_id, deque(maxlen=5)).append(notice)

    def pop_notices(self, username: str | None) -> list[str]:
        if username is None:
            return []
        return list(self._notices.pop(username, ()))

    # -- re-authentication ----------------------------------------------------------------

    async def reauth_form(self, request: Request) -> Response:
        if not _session(request).is_authenticated:
            return RedirectResponse("/login", status_code=303)
        target = safe_next(request.query_params.get("next"))
        return self.render(request, "reauth.html", next=target, error=None)

    async def reauth(self, request: Request) -> Response:
        session = _session(request)
        user_id = session.user_id
        if user_id is None:
            return RedirectResponse("/login", status_code=303)
        form = await request.form()
        target = safe_next(str(form.get("next", ""))[:MAX_FIELD])
        password = str(form.get("password", ""))[:MAX_FIELD]
        # /reauth exists to stop a session thief, who must not get unlimited password guesses.
        wait = await self.app.limiter.check(user_id, session.client)
        if wait is not None:
            response: Response = self.app.too_many(request, "reauth.html", wait, next=target)
            return response
        if self.users.authenticate(user_id, password) is None:
            await self.app.limiter.failed(user_id, session.client)
            self.manager.emit(
                EventKind.LOGIN_FAILED,
                client=session.client,
                reason="re-authentication failed",
                user_id=user_id,
            )
            return self.render(
                request, "reauth.html", status=401, next=target, error="Wrong password."
            )
        await self.app.limiter.succeeded(user_id, session.client)
        # A new token as well as a fresh authentication time (seed step 5).
        await session.reauthenticate()
        return RedirectResponse(target, status_code=303)

    @property
    def manager(self) -> AsyncSessionManager:
        manager: AsyncSessionManager = self.app.manager
        return manager

    # -- change password -----------------------------------------------------------------

    @requires_recent_auth(REAUTH_MAX_AGE)
    async def password_form(self, request: Request) -> Response:
        done = request.query_params.get("done")
        return self.render(request, "password.html", error=None, done=done)

    async def change_password(self, request: Request) -> Response:
        session = _session(request)
        user_id = session.user_id
        if user_id is None:
            return RedirectResponse("/login", status_code=303)
        if session.needs_reauthentication(REAUTH_MAX_AGE):
            return reauth_redirect("/account/password")
        form = await request.form()
        new = str(form.get("new_password", ""))[:MAX_FIELD]
        again = str(form.get("confirm_password", ""))[:MAX_FIELD]
        error = None
        if len(new) < MIN_PASSWORD:
            error = f"Use at least {MIN_PASSWORD} characters."
        elif new != again:
            error = "The two passwords differ."
        if error is not None:
            return self.render(request, "password.html", status=400, error=error, done=None)
        self.users.change_password(user_id, new)
        ended = 0
        if form.get("end_others"):
            for other in await session.sessions():
                if not other.current and await session.revoke(other.handle):
                    ended += 1
        # A privilege-relevant change: the session continues under a new token.
        await session.rotate()
        return RedirectResponse(f"/account/password?done={ended}", status_code=303)

    # -- login history -------------------------------------------------------------------

    async def history(self, request: Request) -> Response:
        session = _session(request)
        user_id = session.user_id
        if user_id is None:
            return RedirectResponse("/login", status_code=303)
        entries = await anyio.to_thread.run_sync(
            lambda: self.audit.query(user_id=user_id, kinds=HISTORY_KINDS, limit=50)
        )
        return self.render(
            request,
            "history.html",
            events=[entry.event for entry in entries],
            current=session.handle,
        )

    # -- administration ------------------------------------------------------------------

    def _admin(self, session: AsyncSession) -> bool:
        return session.user_id in ADMINS

    @requires_recent_auth(REAUTH_MAX_AGE)
    async def admin_users(self, request: Request) -> Response:
        session = _session(request)
        if not self._admin(session):
            return PlainTextResponse("Administrators only.", status_code=403)
        rows = []
        for name in self.users.names():
            count = len(await self.manager.sessions_of(name))
            rows.append({"name": name, "disabled": self.users.is_disabled(name), "sessions": count})
        ended = request.query_params.get("ended")
        return self.render(request, "admin_users.html", rows=rows, ended=ended)

    async def set_user_state(self, request: Request) -> Response:
        session = _session(request)
        if not session.is_authenticated:
            return RedirectResponse("/login", status_code=303)
        if not self._admin(session):
            return PlainTextResponse("Administrators only.", status_code=403)
        if session.needs_reauthentication(REAUTH_MAX_AGE):
            return reauth_redirect("/admin/users")
        name = request.path_params["name"]
        action = request.path_params["action"]
        if self.users.get(name) is None or action not in ("disable", "enable"):
            return PlainTextResponse("No such user or action.", status_code=404)
        if name == session.user_id:
            return PlainTextResponse("You cannot disable yourself.", status_code=400)
        if action == "enable":
            self.users.enable(name)
            return RedirectResponse("/admin/users", status_code=303)
        # Disabling ends every session of the user at once, on every app instance: the
        # sessions are deleted from the shared store, not just refused at the next login.
        self.users.disable(name)
        ended = await self.manager.revoke_user(name, reason=RevokeReason.ADMIN)
        return RedirectResponse(f"/admin/users?ended={ended}", status_code=303)

    # -- metrics -------------------------------------------------------------------------

    async def metrics_page(self, request: Request) -> Response:
        # Metrics reveal traffic patterns: answer only on the machine itself.
        peer = request.client.host if request.client else ""
        try:
            local = ipaddress.ip_address(peer).is_loopback
        except ValueError:
            local = False
        if not local:
            return PlainTextResponse("Not found.", status_code=404)
        body, content_type = render(self.registry)
        return Response(body, media_type=content_type)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/reauth", self.reauth_form, methods=["GET"]),
            Route("/reauth", self.reauth, methods=["POST"]),
            Route("/account/password", self.password_form, methods=["GET"]),
            Route("/account/password", self.change_password, methods=["POST"]),
            Route("/history", self.history, methods=["GET"]),
            Route("/admin/users", self.admin_users, methods=["GET"]),
            Route(
                "/admin/users/{name}/{action:str}",
                self.set_user_state,
                methods=["POST"],
            ),
            Route("/metrics", self.metrics_page, methods=["GET"]),
        ]
