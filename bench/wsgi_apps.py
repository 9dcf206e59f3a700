"""The WSGI apps the benchmark compares, chosen by ``BENCH_APP``; run under gunicorn by
bench/wsgi_cells.py (``bench/run.py --wsgi``).

The same four routes as bench/apps.py (``POST /setup``, ``GET /read``, ``POST /write?k=NAME``,
``GET /dump``), so lost updates are counted the same way. Each app is set up the way its own
documentation shows a user:

* ``flask-bare`` / ``django-bare``: no sessions at all (the routes answer as if the session
  held ``{"user": "alice"}``);
* ``flask-session-redis``: Flask-Session with ``SESSION_TYPE = "redis"`` and ``SESSION_REDIS``
  a ``redis.Redis`` (its defaults otherwise: permanent sessions, msgpack);
* ``flask-sessionward-redis``: ``Sessionward(app, SessionManager(RedisStore(url=...)))``
  (docs/frameworks.md);
* ``django-cache-redis``: ``SESSION_ENGINE = "django.contrib.sessions.backends.cache"`` over
  Django's built-in ``django.core.cache.backends.redis.RedisCache``;
* ``django-sessionward-redis``: ``SESSION_ENGINE = "sessionward.integrations.django.engine"``,
  ``SessionwardMiddleware`` and ``SESSIONWARD_STORE = "redis://..."`` (docs/django.md).

Every Redis key lives in ``BENCH_REDIS`` (DB 13 by default) under ``BENCH_NAMESPACE``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

APP = os.environ.get("BENCH_APP", "flask-bare")
REDIS_URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/13")
NAMESPACE = os.environ.get("BENCH_NAMESPACE", "bench")
SECRET = "benchmark-secret-not-for-production-0123456789"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


# -- Flask -----------------------------------------------------------------------------------


def flask_app(install: Callable[[Any], None] | None) -> WSGIApp:
    import flask

    app = flask.Flask(__name__)
    app.secret_key = SECRET
    if install is not None:
        install(app)
    with_session = install is not None

    @app.post("/setup")
    def setup() -> str:
        if with_session:
            flask.session["user"] = "alice"
        return "ok"

    @app.get("/read")
    def read() -> str:
        return str(flask.session.get("user")) if with_session else "alice"

    @app.post("/write")
    def write() -> str:
        if with_session:
            key = flask.request.args.get("k", "n")
            flask.session[key] = flask.session.get(key, 0) + 1
        return "ok"

    @app.get("/dump")
    def dump() -> flask.Response:
        return flask.jsonify(dict(flask.session) if with_session else {})

    return app.wsgi_app  # type: ignore[no-any-return]


def install_flask_session(app: Any) -> None:
    import redis
    from flask_session import Session

    app.config["SESSION_TYPE"] = "redis"
    app.config["SESSION_REDIS"] = redis.Redis.from_url(REDIS_URL)
    app.config["SESSION_KEY_PREFIX"] = f"{NAMESPACE}.fs:"
    Session(app)


def install_sessionward(app: Any) -> None:
    from sessionward import SessionManager
    from sessionward.integrations.flask import Sessionward
    from sessionward.stores.redis import RedisStore

    Sessionward(app, SessionManager(RedisStore(url=REDIS_URL, prefix=f"{NAMESPACE}.sw")))


# -- Django ----------------------------------------------------------------------------------


def django_app(engine: str | None) -> WSGIApp:
    import django
    from django.conf import settings

    options: dict[str, Any] = {}
    middleware: list[str] = []
    apps: list[str] = []
    if engine == "cache":
        apps = ["django.contrib.sessions"]
        middleware = ["django.contrib.sessions.middleware.SessionMiddleware"]
        options = {
            "SESSION_ENGINE": "django.contrib.sessions.backends.cache",
            "CACHES": {
                "default": {
                    "BACKEND": "django.core.cache.backends.redis.RedisCache",
                    "LOCATION": REDIS_URL,
                    "KEY_PREFIX": f"{NAMESPACE}.dj",
                }
            },
        }
    elif engine == "sessionward":
        apps = ["sessionward.integrations.django.sessions"]
        middleware = ["sessionward.integrations.django.SessionwardMiddleware"]
        options = {
            "SESSION_ENGINE": "sessionward.integrations.django.engine",
            "SESSIONWARD_STORE": REDIS_URL,
            "SESSIONWARD_STORE_OPTIONS": {"prefix": f"{NAMESPACE}.swdj"},
            "SESSION_COOKIE_NAME": "__Host-session",
        }
    settings.configure(
        DEBUG=False,
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=apps,
        MIDDLEWARE=middleware,
        DATABASES={},
        USE_TZ=True,
        **options,
    )
    django.setup()
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()  # type: ignore[no-any-return]


def _django_views() -> list[Any]:
    from django.http import HttpRequest, HttpResponse, JsonResponse
    from django.urls import path
    from django.views.decorators.http import require_GET, require_POST

    def has_session(request: HttpRequest) -> bool:
        return hasattr(request, "session")

    @require_POST
    def setup(request: HttpRequest) -> HttpResponse:
        if has_session(request):
            request.session["user"] = "alice"
        return HttpResponse("ok", content_type="text/plain")

    @require_GET
    def read(request: HttpRequest) -> HttpResponse:
        user = request.session.get("user") if has_session(request) else "alice"
        return HttpResponse(str(user), content_type="text/plain")

    @require_POST
    def write(request: HttpRequest) -> HttpResponse:
        if has_session(request):
            key = request.GET.get("k", "n")
            request.session[key] = request.session.get(key, 0) + 1
        return HttpResponse("ok", content_type="text/plain")

    @require_GET
    def dump(request: HttpRequest) -> HttpResponse:
        data = dict(request.session.items()) if has_session(request) else {}
        return JsonResponse(data)

    return [
        path("setup", setup),
        path("read", read),
        path("write", write),
        path("dump", dump),
    ]


def make() -> WSGIApp:
    if APP == "flask-bare":
        return flask_app(None)
    if APP == "flask-session-redis":
        return flask_app(install_flask_session)
    if APP == "flask-sessionward-redis":
        return flask_app(install_sessionward)
    if APP == "django-bare":
        return django_app(None)
    if APP == "django-cache-redis":
        return django_app("cache")
    if APP == "django-sessionward-redis":
        return django_app("sessionward")
    raise SystemExit(f"unknown BENCH_APP {APP!r}")


app = make()
if APP.startswith("django"):
    urlpatterns = _django_views()
