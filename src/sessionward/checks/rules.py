"""The checks. Each says what is wrong in a sentence and how to fix it; docs/check.md lists them.

Thresholds follow OWASP's Session Management Cheat Sheet (idle 15-30 minutes for low-risk
apps, absolute 4-8 hours for a working day) and the package's own bounds.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

from ..core.keys import MIN_SECRET_BYTES
from .discover import Deployment
from .model import Severity, check

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

SESSION_LAYERS = ("SessionMiddleware", "WSGISessionMiddleware")
CSRF_LAYERS = ("CSRFMiddleware", "WSGICSRFMiddleware")
REDIRECT_LAYERS = ("HTTPSRedirectMiddleware", "WSGIHTTPSRedirectMiddleware")
HEADER_LAYERS = ("SecurityHeadersMiddleware", "WSGISecurityHeadersMiddleware")
ONE_YEAR = 365 * 24 * 3600
_PLACEHOLDERS = ("change", "secret", "insecure", "example", "dummy", "password", "xxxx")


def _name(obj: Any) -> str:
    return type(obj).__name__


def _from_sessionward(obj: Any) -> bool:
    return type(obj).__module__.startswith("sessionward.")


def _layers(dep: Deployment, names: tuple[str, ...]) -> list[Any]:
    return [o for o in dep.layers() if _name(o) in names and _from_sessionward(o)] or [
        o for n in names for o in dep.of(n)
    ]


def _django_middleware(dep: Deployment) -> list[str]:
    value = dep.settings.get("MIDDLEWARE") or []
    return [str(m) for m in value]


def _has_session(dep: Deployment) -> bool:
    if dep.managers or _layers(dep, SESSION_LAYERS) or dep.of("SessionwardInterface"):
        return True
    return any("sessionward" in m for m in _django_middleware(dep))


def _loopback(host: str | None) -> bool:
    if not host or host.startswith("/") or host == "localhost":
        return True  # no host: a Unix socket or the client library's local default
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# -- finding the app's parts ----------------------------------------------------------------


@check(
    "SW001",
    "no sessionward session found",
    ERROR,
    "Add sessionward's session middleware (SessionMiddleware for ASGI, WSGISessionMiddleware, "
    "Sessionward(app, manager) for Flask, SessionwardMiddleware for Django), or point "
    "`--manager` at your SessionManager.",
)
def no_session(dep: Deployment, deploy: bool) -> Iterator[str]:
    if dep.startup_error is None and not _has_session(dep):
        yield f"{dep.target}: found no session middleware and no session manager in the app."


@check(
    "SW002",
    "the app does not start",
    ERROR,
    "Fix the configuration error; the message says how.",
)
def startup(dep: Deployment, deploy: bool) -> Iterator[str]:
    if dep.startup_error is not None:
        yield f"building the app failed: {dep.startup_error}"


# -- cookies and timeouts -------------------------------------------------------------------


@check(
    "SW003",
    "development cookies",
    INFO,
    "Use the default CookieConfig() in production: Secure, the __Host- prefix, HttpOnly. "
    "CookieConfig.development() is for plain HTTP on a loopback address only.",
    deploy_severity=ERROR,
)
def development_cookies(dep: Deployment, deploy: bool) -> Iterator[str]:
    for manager in dep.managers:
        cookie = manager.cookie
        if not cookie.secure or not cookie.host_prefix:
            where = "production" if deploy else "anything but a loopback address"
            yield (
                f"the session cookie {cookie.cookie_name!r} has secure={cookie.secure}, "
                f"host_prefix={cookie.host_prefix}: unsafe for {where}."
            )


@check(
    "SW004",
    "SameSite=None session cookie",
    WARNING,
    "Use samesite='lax' (the default) or 'strict'; None sends the cookie with every cross-site "
    "request and leaves only the CSRF token between an attacker and the session.",
)
def samesite_none(dep: Deployment, deploy: bool) -> Iterator[str]:
    for manager in dep.managers:
        if str(manager.cookie.same_site).lower() == "none":
            yield f"the session cookie {manager.cookie.cookie_name!r} is SameSite=None."


@check(
    "SW013",
    "idle timeout above OWASP's range",
    WARNING,
    "Set SessionPolicy(idle_timeout=...) to 30 minutes or less (OWASP: 2-5 minutes for "
    "high-value apps, 15-30 for low-risk ones).",
)
def idle_timeout(dep: Deployment, deploy: bool) -> Iterator[str]:
    for manager in dep.managers:
        idle = manager.policy.idle_timeout
        if idle > 30 * 60:
            yield f"idle_timeout is {idle / 60:g} minutes."


@check(
    "SW014",
    "absolute timeout above OWASP's range",
    WARNING,
    "Set SessionPolicy(absolute_timeout=...) to the length of a working day or less "
    "(OWASP: 4-8 hours); the default is 12 hours.",
)
def absolute_timeout(dep: Deployment, deploy: bool) -> Iterator[str]:
    for manager in dep.managers:
        absolute = manager.policy.absolute_timeout
        if absolute > 12 * 3600:
            yield f"absolute_timeout is {absolute / 3600:g} hours."


# -- HTTPS ----------------------------------------------------------------------------------


@check(
    "SW005",
    "no HTTPS redirect",
    WARNING,
    "Put HTTPSRedirectMiddleware (WSGIHTTPSRedirectMiddleware) outermost, or set "
    "SECURE_SSL_REDIRECT = True in Django, unless your proxy redirects (then ignore this).",
    deploy_only=True,
)
def no_https_redirect(dep: Deployment, deploy: bool) -> Iterator[str]:
    if dep.framework == "django":
        if not dep.settings.get("SECURE_SSL_REDIRECT"):
            yield "SECURE_SSL_REDIRECT is off."
    elif dep.framework != "manager" and not _layers(dep, REDIRECT_LAYERS):
        yield "plain-HTTP requests are served instead of redirected to HTTPS."


@check(
    "SW006",
    "no HSTS or a short one",
    WARNING,
    "Use SecurityHeadersMiddleware with SecurityHeaders(hsts_max_age=63072000) (the default), "
    "or SECURE_HSTS_SECONDS >= 31536000 in Django.",
    deploy_only=True,
)
def no_hsts(dep: Deployment, deploy: bool) -> Iterator[str]:
    if dep.framework == "django":
        seconds = int(dep.settings.get("SECURE_HSTS_SECONDS") or 0)
        if seconds < ONE_YEAR:
            yield f"SECURE_HSTS_SECONDS is {seconds}."
        return
    if dep.framework == "manager":
        return
    headers = _layers(dep, HEADER_LAYERS)
    if not headers:
        yield "no Strict-Transport-Security header is sent (no SecurityHeadersMiddleware)."
    for layer in headers:
        age = layer.headers.hsts_max_age
        if age < ONE_YEAR:
            yield f"Strict-Transport-Security max-age is {age} s (less than a year)."


@check(
    "SW021",
    "no security headers",
    WARNING,
    "Add SecurityHeadersMiddleware (WSGISecurityHeadersMiddleware) outside the session "
    "middleware: CSP with nonces, nosniff, frame-ancestors, Referrer-Policy, HSTS.",
)
def no_headers(dep: Deployment, deploy: bool) -> Iterator[str]:
    web = dep.framework in ("starlette", "asgi/wsgi", "flask")
    if web and _has_session(dep) and not _layers(dep, HEADER_LAYERS):
        yield "responses carry no CSP, nosniff, frame-ancestors or HSTS headers."


# -- CSRF -----------------------------------------------------------------------------------


@check(
    "SW007",
    "no CSRF protection",
    WARNING,
    "Add CSRFMiddleware (WSGICSRFMiddleware) inside the session middleware, or Django's "
    "CsrfViewMiddleware; an API that takes only bearer tokens may ignore this.",
)
def no_csrf(dep: Deployment, deploy: bool) -> Iterator[str]:
    if not _has_session(dep) or dep.framework == "manager":
        return
    if dep.framework == "django":
        if not any(m.endswith("CsrfViewMiddleware") for m in _django_middleware(dep)):
            yield "CsrfViewMiddleware is not in MIDDLEWARE."
        return
    flask_csrf = dep.framework == "flask" and any(
        "csrf" in str(key).lower() for key in (getattr(dep.app, "extensions", None) or {})
    )
    found = _layers(dep, CSRF_LAYERS) or [
        o for kind, objs in dep.found.items() if "CSRF" in kind for o in objs
    ]
    if not found and not flask_csrf:
        yield "unsafe requests (POST, PUT, PATCH, DELETE) are not checked for forgery."


@check(
    "SW008",
    "CSRF middleware outside the session middleware",
    ERROR,
    "List the CSRF middleware after (inside) the session middleware, with the same manager: "
    "it checks the token against the session the session middleware loaded.",
)
def csrf_order(dep: Deployment, deploy: bool) -> Iterator[str]:
    for chain in dep.chains:
        names = [_name(o) if _from_sessionward(o) else "" for o in chain]
        sessions = [i for i, n in enumerate(names) if n in SESSION_LAYERS]
        for i, name in enumerate(names):
            if name not in CSRF_LAYERS:
                continue
            if not sessions or i < sessions[0]:
                yield f"{name} runs before any session is loaded."
            elif chain[i].manager is not chain[sessions[-1]].manager:
                yield f"{name} has a different manager from the session middleware."


@check(
    "SW022",
    "CSRF trusts a plain-HTTP origin",
    WARNING,
    "List only https:// origins in trusted_origins (and origin=).",
)
def csrf_http_origin(dep: Deployment, deploy: bool) -> Iterator[str]:
    for layer in _layers(dep, CSRF_LAYERS):
        config = layer.config
        for origin in sorted({*config.trusted_origins, config.origin or "https://"}):
            if origin.startswith("http://"):
                yield f"{origin} may post forms with this session."


# -- stores ---------------------------------------------------------------------------------


def _stores(dep: Deployment) -> Iterator[Any]:
    for manager in dep.managers:
        store = manager.store
        yield getattr(store, "sync", store)


def _redis_target(store: Any) -> tuple[str | None, bool, bool] | None:
    """(host, tls, authenticated) of a Redis store's client, or None for another store."""
    pool = getattr(getattr(store, "client", None), "connection_pool", None)
    if pool is None or "Redis" not in _name(store):
        return None
    kwargs = getattr(pool, "connection_kwargs", {})
    tls = "SSL" in getattr(pool, "connection_class", type).__name__
    return kwargs.get("host") or kwargs.get("path"), tls, bool(kwargs.get("password"))


def _postgres_target(store: Any) -> tuple[str | None, bool] | None:
    """(host, tls required) of a PostgreSQL store, or None for another store."""
    if "Postgres" not in _name(store):
        return None
    conninfo = getattr(getattr(store, "pool", None), "conninfo", None) or getattr(
        store, "_conninfo", ""
    )
    from psycopg.conninfo import conninfo_to_dict  # a PostgreSQL store implies psycopg

    params = conninfo_to_dict(str(conninfo))
    host = str(params.get("host") or params.get("hostaddr") or "") or None
    tls = params.get("sslmode") in ("require", "verify-ca", "verify-full")
    return host, tls


@check(
    "SW009",
    "shared store without TLS off loopback",
    WARNING,
    "Use rediss:// (Redis) or sslmode=verify-full (PostgreSQL) for a store on another host: "
    "session data and keys cross the network in clear otherwise.",
    deploy_severity=ERROR,
)
def store_tls(dep: Deployment, deploy: bool) -> Iterator[str]:
    for store in _stores(dep):
        redis = _redis_target(store)
        postgres = _postgres_target(store)
        if redis is not None and not redis[1] and not _loopback(redis[0]):
            yield f"the Redis store at {redis[0]} is reached without TLS."
        if postgres is not None and not postgres[1] and not _loopback(postgres[0]):
            yield f"the PostgreSQL store at {postgres[0]} does not require TLS."


@check(
    "SW010",
    "Redis store without authentication off loopback",
    WARNING,
    "Give the Redis URL a user and password (redis://user:password@host) or an ACL user: "
    "anyone who reaches the port can read and forge sessions otherwise.",
    deploy_severity=ERROR,
)
def store_auth(dep: Deployment, deploy: bool) -> Iterator[str]:
    for store in _stores(dep):
        redis = _redis_target(store)
        if redis is not None and not redis[2] and not _loopback(redis[0]):
            yield f"the Redis store at {redis[0]} has no password."


@check(
    "SW018",
    "memory store in production",
    WARNING,
    "Use SQLiteStore for one machine, RedisStore or PostgresStore for several: the memory store "
    "forgets every session on restart and is not shared between worker processes.",
    deploy_only=True,
)
def memory_store(dep: Deployment, deploy: bool) -> Iterator[str]:
    for store in _stores(dep):
        if _name(store) == "MemoryStore":
            yield "sessions are kept in process memory."


# -- proxies --------------------------------------------------------------------------------


def _proxy_layers(dep: Deployment) -> list[Any]:
    names = ("ProxyFix", "ProxyHeadersMiddleware")
    return [o for o in dep.layers() if _name(o) in names] or [o for n in names for o in dep.of(n)]


def _resolvers(dep: Deployment) -> list[Any]:
    return [getattr(o, "client_resolver", None) for o in _layers(dep, SESSION_LAYERS)]


@check(
    "SW011",
    "forwarded headers without trusted proxies",
    WARNING,
    "Pass client_resolver=TrustedProxies([...your proxies]).asgi (or .wsgi) to the session "
    "middleware, so client addresses (shown to users, used by the anomaly rules) are the "
    "clients', not the proxy's.",
)
def forwarded_without_proxies(dep: Deployment, deploy: bool) -> Iterator[str]:
    behind = _proxy_layers(dep) or (
        dep.framework == "django" and dep.settings.get("SECURE_PROXY_SSL_HEADER")
    )
    if not behind:
        return
    for resolver in _resolvers(dep):
        if _name(getattr(resolver, "__self__", None)) != "TrustedProxies":
            yield "the app runs behind a proxy but sessionward takes the peer as the client."


@check(
    "SW012",
    "every address trusted as a proxy",
    ERROR,
    "List your proxies' addresses or networks; trusting 0.0.0.0/0, ::/0 or '*' lets any client "
    "forge its address and scheme with X-Forwarded-For / X-Forwarded-Proto.",
)
def trusts_everyone(dep: Deployment, deploy: bool) -> Iterator[str]:
    proxies = [
        *dep.of("TrustedProxies"),
        *(getattr(o, "proxies", None) for o in _layers(dep, REDIRECT_LAYERS)),
    ]
    seen: set[int] = set()
    for item in proxies:
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if any(net.prefixlen == 0 for net in getattr(item, "networks", ())):
            yield f"{item!r} trusts every address."
    for layer in _proxy_layers(dep):
        hosts = getattr(layer, "trusted_hosts", None)
        if getattr(hosts, "always_trust", False) or hosts == "*":
            yield f"{_name(layer)} trusts forwarded headers from every address."


# -- keys -----------------------------------------------------------------------------------


def _secrets(dep: Deployment) -> Iterator[tuple[str, bytes]]:
    """(purpose, secret bytes) of every secret the app uses."""
    for name in ("SECRET_KEY",):
        value = dep.settings.get(name)
        if isinstance(value, str | bytes) and value:
            label = "Django SECRET_KEY" if dep.framework == "django" else "Flask SECRET_KEY"
            yield label, value.encode() if isinstance(value, str) else value
    rings = [layer.config.keys for layer in _layers(dep, CSRF_LAYERS)] + dep.of("SecretKeyRing")
    seen: set[int] = set()
    for ring in rings:
        if id(ring) in seen:
            continue
        seen.add(id(ring))
        for secret in ring:
            yield "CSRF key", secret.reveal()
    for key in dep.of("SigningKey"):
        if getattr(key, "algorithm", None) == "HS256":
            yield f"JWT key {key.kid}", bytes(key.signing_material())


def _weak(secret: bytes) -> str | None:
    if len(secret) < MIN_SECRET_BYTES:
        return f"{len(secret)} bytes (at least {MIN_SECRET_BYTES})"
    if len(set(secret)) < 12:
        return f"only {len(set(secret))} distinct characters"
    text = secret.decode("latin-1").lower()
    hit = next((p for p in _PLACEHOLDERS if p in text), None)
    return f"contains {hit!r}, a placeholder" if hit else None


@check(
    "SW015",
    "weak signing key",
    WARNING,
    "Generate each key with `python -c 'import secrets; print(secrets.token_urlsafe(32))'` "
    "and load it from the environment or a secret store.",
    deploy_severity=ERROR,
)
def weak_keys(dep: Deployment, deploy: bool) -> Iterator[str]:
    for purpose, secret in _secrets(dep):
        problem = _weak(secret)
        if problem:
            yield f"the {purpose} is weak: {problem}."


@check(
    "SW016",
    "one key for several purposes",
    ERROR,
    "Give every purpose its own random key (CSRF, JWT HS256, the framework's SECRET_KEY): a leak "
    "or an oracle in one then cannot forge the others.",
)
def shared_keys(dep: Deployment, deploy: bool) -> Iterator[str]:
    purposes: dict[bytes, set[str]] = {}
    for purpose, secret in _secrets(dep):
        purposes.setdefault(secret, set()).add(" ".join(purpose.split(" ")[:2]))
    for names in purposes.values():
        if len(names) > 1:
            yield f"the same key is used as {' and '.join(sorted(names))}."


# -- tokens ---------------------------------------------------------------------------------


@check(
    "SW017",
    "long-lived API tokens",
    WARNING,
    "Keep AccessSettings(ttl=...) at 300 seconds or less (a stolen access token cannot be "
    "recalled before it expires in revocation_list mode) and refresh tokens within the "
    "session's absolute timeout (TokenPolicy(refresh_ttl=None) follows it).",
)
def token_lifetimes(dep: Deployment, deploy: bool) -> Iterator[str]:
    for tokens in [*dep.of("TokenManager"), *dep.of("AsyncTokenManager")]:
        ttl = tokens.settings.ttl
        if ttl > 300:
            yield f"access tokens live {ttl} s."
        refresh = tokens.policy.refresh_ttl
        absolute = tokens.sessions.policy.absolute_timeout
        if refresh is not None and refresh > absolute:
            yield f"refresh tokens live {refresh:g} s, longer than the session ({absolute:g} s)."


# -- monitoring -----------------------------------------------------------------------------


@check(
    "SW019",
    "anomaly detection off",
    WARNING,
    "Keep Monitoring's defaults: AnomalyRules(user_agent_change='revoke', ip_change='flag') and "
    "the guessing rule; they stop replayed and guessed session IDs.",
)
def anomaly_off(dep: Deployment, deploy: bool) -> Iterator[str]:
    for manager in dep.managers:
        rules = manager.flows.monitoring.rules
        if rules.user_agent_change == "allow" and rules.ip_change == "allow":
            yield "stolen-session detection (User-Agent and IP change) is off."
        if rules.guessing is None:
            yield "session-ID guessing is not throttled."


@check(
    "SW020",
    "no persistent audit trail",
    INFO,
    "Add AuditSink(SQLiteAuditLog(...)) (or the Redis / PostgreSQL audit log) to the manager's "
    "sinks to keep a queryable trail of logins, logouts and revocations.",
    deploy_only=True,
)
def no_audit(dep: Deployment, deploy: bool) -> Iterator[str]:
    for manager in dep.managers:
        if not any(_name(s) == "AuditSink" for s in manager.flows.sinks):
            yield "session events go to the log only."
