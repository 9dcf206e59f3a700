"""The demo's Starlette application: login, logout, home and active sessions."""

from __future__ import annotations

import datetime
import math
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from sessionward import (
    SYSTEM_CLOCK,
    AsyncLoginLimiter,
    AsyncSession,
    AsyncSessionManager,
    AsyncSQLiteStore,
    Clock,
    CookieConfig,
    SecretKeyRing,
    SecurityHeaders,
)
from sessionward.binding import BindingConfig, DeviceBinding, binding_state
from sessionward.binding.asgi import DeviceBindingMiddleware
from sessionward.integrations.csrf import CSRFMiddleware, csrf_token
from sessionward.integrations.headers import (
    HTTPSRedirectMiddleware,
    SecurityHeadersMiddleware,
    csp_nonce,
)
from sessionward.monitoring import EventKind, EventSink

from .account import REAUTH_MAX_AGE, AccountPages, reauth_redirect
from .api import CSRF_EXEMPT, DemoAPI
from .config import DemoConfig
from .users import UserDirectory

HERE = Path(__file__).parent
MAX_FIELD = 256
# The strictest policy the demo can live with: nothing loads unless listed, scripts only with
# this response's nonce, styles only from our own origin, never framed, forms post only to us.
SECURITY_HEADERS = SecurityHeaders(
    csp={
        "default-src": "'none'",
        "script-src": "'strict-dynamic'",
        "style-src": "'self'",
        "img-src": "'self'",
        "connect-src": "'self'",
        "form-action": "'self'",
    },
    nonce_directives=("script-src",),
)


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "never"
    moment = datetime.datetime.fromtimestamp(timestamp, datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every template, whatever its file name
        undefined=jinja2.StrictUndefined,
    )
    env.filters["when"] = _when
    return env


class DemoApp:
    """Holds what the routes share; ``create_app`` wires it into Starlette."""

    def __init__(self, config: DemoConfig, users: UserDirectory, manager: AsyncSessionManager):
        self.config = config
        self.users = users
        self.manager = manager
        # Online password guessing: every password check (/login, /reauth, /api/token) asks
        # first and reports the outcome; a limited attempt is a 429 with Retry-After.
        self.limiter = AsyncLoginLimiter(manager)
        self.templates = _templates()

    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        session: AsyncSession = request.session  # type: ignore[assignment]
        user = self.users.get(session.user_id) if session.user_id else None
        html = self.templates.get_template(name).render(
            request=request,
            user=user,
            config=self.config,
            # Every form renders a freshly masked token; inline scripts carry the CSP nonce.
            csrf_token=lambda: csrf_token(request),
            csp_nonce=csp_nonce(request),
            **context,
        )
        return Response(html, status_code=status, media_type="text/html")

    def too_many(self, request: Request, name: str, wait: float, **context: Any) -> Response:
        """The form again, with 429, Retry-After and a sentence that says how long to wait."""
        seconds = max(1, math.ceil(wait))
        unit = "second" if seconds == 1 else "seconds"
        error = f"Too many failed sign-in attempts. Try again in {seconds} {unit}."
        response = self.render(request, name, status=429, error=error, **context)
        response.headers["retry-after"] = str(seconds)
        return response

    @staticmethod
    def session(request: Request) -> AsyncSession:
        session: AsyncSession = request.session  # type: ignore[assignment]
        return session

    async def home(self, request: Request) -> Response:
        session = self.session(request)
        if not session.is_authenticated:
            return RedirectResponse("/login", status_code=303)
        return self.render(
            request,
            "home.html",
            session_handle=session.handle,
            authenticated_at=session.authenticated_at,
        )

    async def login_form(self, request: Request) -> Response:
        if self.session(request).is_authenticated:
            return RedirectResponse("/", status_code=303)
        notice = "You have been logged out." if request.query_params.get("bye") else None
        return self.render(request, "login.html", error=None, notice=notice, username="")

    async def login(self, request: Request) -> Response:
        session = self.session(request)
        form = await request.form()
        username = str(form.get("username", ""))[:MAX_FIELD]
        password = str(form.get("password", ""))[:MAX_FIELD]
        wait = await self.limiter.check(username, session.client)
        if wait is not None:
            # Refused before the password is even checked: guessing gains nothing here.
            return self.too_many(request, "login.html", wait, username=username, notice=None)
        user = self.users.authenticate(username, password)
        if user is None:
            await self.limiter.failed(username, session.client)
            self.manager.emit(
                EventKind.LOGIN_FAILED,
                client=session.client,
                reason="bad credentials",
                # Only a real account's name becomes the event's user (its login history);
                # anything else a visitor typed stays a bounded detail.
                user_id=username if self.users.get(username) else None,
                username=username[:64],
            )
            return self.render(
                request,
                "login.html",
                status=401,
                username=username,
                error="Unknown user name or wrong password.",
                notice=None,
            )
        await self.limiter.succeeded(username, session.client)
        # Seed step 5: a brand-new session ID at login; the pre-login one dies now.
        await session.login(user.username)
        return RedirectResponse("/", status_code=303)

    async def logout(self, request: Request) -> Response:
        await self.session(request).logout()
        return RedirectResponse("/login?bye=1", status_code=303)

    async def sessions(self, request: Request) -> Response:
        session = self.session(request)
        if not session.is_authenticated:
            return RedirectResponse("/login", status_code=303)
        # Which sessions are bound to a device key (DBSC), read from the stored records.
        records = await self.manager.store.list_by_user(session.user_id)
        bindings = {r.handle: binding_state(r) for r in records}
        return self.render(
            request, "sessions.html", sessions=await session.sessions(), bindings=bindings
        )

    async def revoke(self, request: Request) -> Response:
        session = self.session(request)
        if not session.is_authenticated:
            return RedirectResponse("/login", status_code=303)
        handle = request.path_params["handle"]
        if handle != session.handle and session.needs_reauthentication(REAUTH_MAX_AGE):
            # Ending another session is sensitive (a thief would end the owner's): ask for
            # the password first. Logging yourself out never needs it.
            return reauth_redirect("/sessions")
        if not await session.revoke(handle):
            return PlainTextResponse("No such session.", status_code=404)
        if session.ended:
            return RedirectResponse("/login?bye=1", status_code=303)
        return RedirectResponse("/sessions", status_code=303)

    async def logout_everywhere(self, request: Request) -> Response:
        session = self.session(request)
        if session.is_authenticated:
            await session.logout_everywhere()
        return RedirectResponse("/login?bye=1", status_code=303)

    async def health(self, request: Request) -> Response:
        return PlainTextResponse("ok")


def create_app(
    config: DemoConfig,
    users: UserDirectory,
    *,
    clock: Clock = SYSTEM_CLOCK,
    sinks: list[EventSink] | None = None,
    csrf_keys: SecretKeyRing | None = None,
) -> Starlette:
    """Build the demo app on a SQLite store at ``config.store_path``.

    ``csrf_keys`` signs CSRF tokens; by default a random key per process (open forms need
    reloading after a restart).
    """
    cookie = CookieConfig.development() if config.insecure_http else CookieConfig()
    api = DemoAPI(config, users, clock)
    account = AccountPages(config, users, clock)
    manager = AsyncSessionManager(
        AsyncSQLiteStore(config.store_path),
        policy=config.policy(),
        cookie=cookie,
        clock=clock,
        sinks=account.sinks(api.sinks(sinks)),
    )
    demo = DemoApp(config, users, manager)
    keys = csrf_keys or SecretKeyRing.generate()
    # Device Bound Session Credentials: browsers that support DBSC bind the session to a
    # device key after login; a copied cookie then stops working within 10 minutes.
    bound_cookie = (
        CookieConfig(name="bound", host_prefix=False, secure=False)
        if config.insecure_http
        else CookieConfig(name="bound")
    )
    binding = DeviceBinding(
        manager, BindingConfig(keys=keys, cookie=bound_cookie, exclude_paths=("/static",))
    )
    account.bind(demo)
    routes = [
        Route("/", demo.home),
        Route("/login", demo.login_form, methods=["GET"]),
        Route("/login", demo.login, methods=["POST"]),
        Route("/logout", demo.logout, methods=["POST"]),
        Route("/sessions", demo.sessions, methods=["GET"]),
        Route("/sessions/{handle}/revoke", demo.revoke, methods=["POST"]),
        Route("/logout-everywhere", demo.logout_everywhere, methods=["POST"]),
        Route("/healthz", demo.health),
        *api.routes(manager, demo.limiter),
        *account.routes(),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    # Outermost first: HTTPS redirect, security headers (on every answer, 403s included), the
    # session, then CSRF, which needs the loaded session to check the token against.
    middleware = [
        Middleware(SecurityHeadersMiddleware, headers=SECURITY_HEADERS),
        # Sessions, and DBSC's registration and refresh endpoints (before CSRF: the browser
        # posts to them itself, with a signed proof instead of a form token).
        Middleware(
            DeviceBindingMiddleware,
            manager=manager,
            binding=binding,
            client_resolver=config.proxies().asgi,
        ),
        Middleware(
            CSRFMiddleware,
            manager=manager,
            keys=keys,
            exempt=CSRF_EXEMPT,
        ),
    ]
    if not config.insecure_http:
        middleware.insert(0, Middleware(HTTPSRedirectMiddleware, trusted_proxies=config.proxies()))
    app = Starlette(routes=routes, middleware=middleware)
    app.state.demo = demo
    app.state.demo_api = api
    return app
