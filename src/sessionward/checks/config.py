"""Checks of the session configuration: finding sessionward, cookies, timeouts, stores,
keys, API tokens and monitoring.

Thresholds follow OWASP's Session Management Cheat Sheet (idle 15-30 minutes for low-risk
apps, absolute 4-8 hours for a working day) and the package's own bounds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..core.keys import MIN_SECRET_BYTES
from ._common import (
    CSRF_LAYERS,
    ERROR,
    INFO,
    PLACEHOLDERS,
    WARNING,
    has_session,
    layers_named,
    loopback,
    name_of,
)
from .discover import Deployment
from .model import check

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
    if dep.startup_error is None and not has_session(dep):
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
                f"the session cookie {cookie.wire_name!r} has secure={cookie.secure}, "
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
            yield f"the session cookie {manager.cookie.wire_name!r} is SameSite=None."


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


# -- stores ---------------------------------------------------------------------------------


def _stores(dep: Deployment) -> Iterator[Any]:
    for manager in dep.managers:
        store = manager.store
        yield getattr(store, "sync", store)


def _redis_target(store: Any) -> tuple[str | None, bool, bool] | None:
    """(host, tls, authenticated) of a Redis store's client, or None for another store."""
    pool = getattr(getattr(store, "client", None), "connection_pool", None)
    if pool is None or "Redis" not in name_of(store):
        return None
    kwargs = getattr(pool, "connection_kwargs", {})
    tls = "SSL" in getattr(pool, "connection_class", type).__name__
    return kwargs.get("host") or kwargs.get("path"), tls, bool(kwargs.get("password"))


def _postgres_target(store: Any) -> tuple[str | None, bool] | None:
    """(host, tls required) of a PostgreSQL store, or None for another store."""
    if "Postgres" not in name_of(store):
        return None
    conninfo = getattr(store, "conninfo", None) or getattr(
        getattr(store, "pool", None), "conninfo", ""
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
        if redis is not None and not redis[1] and not loopback(redis[0]):
            yield f"the Redis store at {redis[0]} is reached without TLS."
        if postgres is not None and not postgres[1] and not loopback(postgres[0]):
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
        if redis is not None and not redis[2] and not loopback(redis[0]):
            yield f"the Redis store at {redis[0]} has no password."


@check(
    "SW023",
    "shared store without token_keys",
    WARNING,
    "Pass the same SessionManager(token_keys=SecretKeyRing([...])) to every instance sharing a "
    "Redis or PostgreSQL store: each instance otherwise tags tokens with its own random key, "
    "and a token another instance issued looks forged.",
)
def shared_store_token_keys(dep: Deployment, deploy: bool) -> Iterator[str]:
    for manager in dep.managers:
        store = getattr(manager.store, "sync", manager.store)
        shared = _redis_target(store) is not None or "Postgres" in name_of(store)
        if shared and not getattr(manager.flows, "strict_tags", True):
            yield f"{name_of(store)} is shared, but the manager has no token_keys."


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
        if name_of(store) == "MemoryStore":
            yield "sessions are kept in process memory."


# -- keys -----------------------------------------------------------------------------------


def _secrets(dep: Deployment) -> Iterator[tuple[str, bytes]]:
    """(purpose, secret bytes) of every secret the app uses."""
    for name in ("SECRET_KEY",):
        value = dep.settings.get(name)
        if isinstance(value, str | bytes) and value:
            label = "Django SECRET_KEY" if dep.framework == "django" else "Flask SECRET_KEY"
            yield label, value.encode() if isinstance(value, str) else value
    rings = [layer.config.keys for layer in layers_named(dep, CSRF_LAYERS)] + dep.of(
        "SecretKeyRing"
    )
    seen: set[int] = set()
    for ring in rings:
        if id(ring) in seen:
            continue
        seen.add(id(ring))
        for secret in ring:
            yield "CSRF key", secret.reveal()
    for key in dep.of("SigningKey"):
        if getattr(key, "algorithm", None) == "HS256":
            yield f"JWT key {key.kid}", bytes(key.signing_material)


def _weak(secret: bytes) -> str | None:
    if len(secret) < MIN_SECRET_BYTES:
        return f"{len(secret)} bytes (at least {MIN_SECRET_BYTES})"
    if len(set(secret)) < 12:
        return f"only {len(set(secret))} distinct characters"
    text = secret.decode("latin-1").lower()
    hit = next((p for p in PLACEHOLDERS if p in text), None)
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
        rules = manager.flows.observer.monitoring.rules
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
        if not any(name_of(s) == "AuditSink" for s in manager.flows.observer.sinks):
            yield "session events go to the log only."
