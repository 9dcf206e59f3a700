"""Apps for the ``sessionward check`` tests: one well configured, several deliberately not.

Nothing here connects to a server: the Redis and PostgreSQL stores below point at hosts that
are never contacted (the checks read their settings only).
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Any

import flask
from starlette.applications import Starlette
from starlette.middleware import Middleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from sessionward import (
    AsyncMemoryStore,
    AsyncSessionManager,
    CookieConfig,
    MemoryStore,
    SecretKeyRing,
    SessionManager,
    SessionPolicy,
    SQLiteStore,
)
from sessionward.demo import DemoConfig, create_app
from sessionward.demo.users import UserDirectory, seed_users
from sessionward.integrations.asgi import SessionMiddleware
from sessionward.integrations.csrf import CSRFMiddleware
from sessionward.integrations.flask import Sessionward
from sessionward.integrations.headers import HTTPSRedirectMiddleware, SecurityHeadersMiddleware
from sessionward.integrations.wsgi import WSGISessionMiddleware
from sessionward.monitoring import AnomalyRules, Monitoring
from sessionward.stores.postgres import AsyncPostgresStore
from sessionward.stores.redis import RedisStore
from sessionward.tokens import (
    AccessSettings,
    AsyncTokenManager,
    MemoryTokenStore,
    SigningKey,
    SigningKeys,
    ThreadedAsyncTokenStore,
)

WEAK = "changeme-" * 4  # 36 bytes, 9 distinct characters, a placeholder
STRONG = "q8Zr1fW0xKcV3nTg7LmYp2HsD9bJuE4a"


def demo_app() -> Any:
    tmp = Path(tempfile.mkdtemp())
    users = UserDirectory(seed_users("correct horse battery staple"))
    return create_app(DemoConfig(store=tmp / "demo.sqlite3", state_dir=tmp), users)


def good_starlette() -> Starlette:
    manager = AsyncSessionManager(AsyncMemoryStore())
    return Starlette(
        middleware=[
            Middleware(HTTPSRedirectMiddleware),
            Middleware(SecurityHeadersMiddleware),
            Middleware(SessionMiddleware, manager=manager),
            Middleware(CSRFMiddleware, manager=manager, keys=SecretKeyRing([STRONG])),
        ]
    )


def bad_starlette() -> Any:
    """Trips most checks at once."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # CookieConfig.development() warns, as it should
        cookie = CookieConfig.development()
    manager = AsyncSessionManager(
        AsyncPostgresStore("postgresql://app@db.internal.example/app"),
        cookie=cookie,
        policy=SessionPolicy(idle_timeout=2 * 3600, absolute_timeout=24 * 3600),
        monitoring=Monitoring(rules=AnomalyRules.off()),
        sinks=[],
    )
    keys = SecretKeyRing([WEAK])
    tokens = AsyncTokenManager(
        manager,
        ThreadedAsyncTokenStore(MemoryTokenStore(), offload=False),
        keys=SigningKeys([SigningKey.hmac(WEAK.encode(), kid="k1")]),
        settings=AccessSettings(issuer="https://a.example", audience="https://a.example", ttl=900),
    )
    app = Starlette(
        middleware=[
            Middleware(HTTPSRedirectMiddleware, trusted_proxies=["0.0.0.0/0"]),
            Middleware(
                CSRFMiddleware, manager=manager, keys=keys, trusted_origins=["http://a.example"]
            ),
            Middleware(SessionMiddleware, manager=manager),
        ]
    )
    app.state.tokens = tokens
    return ProxyHeadersMiddleware(app, trusted_hosts="*")


def bare_wsgi_on_shared_redis() -> Any:
    """No redirect, no headers, no CSRF; sessions in a Redis on another host, in clear."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [b""]

    store = RedisStore(url="redis://10.20.30.40:6379/0")
    manager = SessionManager(store, cookie=CookieConfig(same_site="none"))
    return WSGISessionMiddleware(app, manager=manager)


def flask_with_memory_store() -> flask.Flask:
    app = flask.Flask(__name__)
    app.config["SECRET_KEY"] = "dev"
    Sessionward(app, SessionManager(MemoryStore()))
    return app


def flask_sharing_its_key() -> flask.Flask:
    app = flask.Flask(__name__)
    app.config["SECRET_KEY"] = STRONG
    manager = SessionManager(SQLiteStore(Path(tempfile.mkdtemp()) / "s.sqlite3"))
    Sessionward(app, manager)
    app.extensions["sessionward_csrf_keys"] = SecretKeyRing([STRONG])
    return app


def does_not_start() -> Starlette:
    """The CSRF middleware refuses a sync manager when the stack is built."""
    manager = SessionManager(MemoryStore())
    return Starlette(
        middleware=[Middleware(CSRFMiddleware, manager=manager, keys=SecretKeyRing([STRONG]))]
    )


async def no_sessionward(scope: Any, receive: Any, send: Any) -> None:
    """A plain ASGI app."""


demo = demo_app()
good = good_starlette()
bad = bad_starlette()


def refuses_its_cookie() -> Any:
    """A factory whose app refuses its configuration at start-up."""
    return CookieConfig(secure=False)


def flask_with_csrf_trusting_http() -> flask.Flask:
    from sessionward.integrations.flask.csrf import CSRFProtect

    app = flask.Flask(__name__)
    app.secret_key = STRONG
    Sessionward(app, SessionManager(SQLiteStore(Path(tempfile.mkdtemp()) / "s.sqlite3")))
    CSRFProtect(app, keys=SecretKeyRing([WEAK]), trusted_origins=["http://old.example"])
    return app
