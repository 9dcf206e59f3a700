"""Checks of the web layer: HTTPS redirect, HSTS and security headers, CSRF, proxies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ._common import (
    CSRF_LAYERS,
    ERROR,
    HEADER_LAYERS,
    ONE_YEAR,
    REDIRECT_LAYERS,
    SESSION_LAYERS,
    WARNING,
    django_middleware,
    from_sessionward,
    has_session,
    layers_named,
    name_of,
)
from .discover import Deployment
from .model import check

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
    elif dep.framework != "manager" and not layers_named(dep, REDIRECT_LAYERS):
        yield "plain-HTTP requests are served instead of redirected to HTTPS."


@check(
    "SW006",
    "no HSTS",
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
    # SecurityHeaders itself refuses an HSTS max-age under a year, so presence is enough.
    if not layers_named(dep, HEADER_LAYERS):
        yield "no Strict-Transport-Security header is sent (no SecurityHeadersMiddleware)."


@check(
    "SW021",
    "no security headers",
    WARNING,
    "Add SecurityHeadersMiddleware (WSGISecurityHeadersMiddleware) outside the session "
    "middleware: CSP with nonces, nosniff, frame-ancestors, Referrer-Policy, HSTS.",
)
def no_headers(dep: Deployment, deploy: bool) -> Iterator[str]:
    web = dep.framework in ("starlette", "asgi/wsgi", "flask")
    if web and has_session(dep) and not layers_named(dep, HEADER_LAYERS):
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
    if not has_session(dep) or dep.framework == "manager":
        return
    if dep.framework == "django":
        if not any(m.endswith("CsrfViewMiddleware") for m in django_middleware(dep)):
            yield "CsrfViewMiddleware is not in MIDDLEWARE."
        return
    flask_csrf = dep.framework == "flask" and any(
        "csrf" in str(key).lower() for key in (getattr(dep.app, "extensions", None) or {})
    )
    found = layers_named(dep, CSRF_LAYERS) or [
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
        names = [name_of(o) if from_sessionward(o) else "" for o in chain]
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
    for layer in layers_named(dep, CSRF_LAYERS):
        config = layer.config
        for origin in sorted({*config.trusted_origins, config.origin or "https://"}):
            if origin.startswith("http://"):
                yield f"{origin} may post forms with this session."


# -- proxies --------------------------------------------------------------------------------


def _proxy_layers(dep: Deployment) -> list[Any]:
    names = ("ProxyFix", "ProxyHeadersMiddleware")
    return [o for o in dep.layers() if name_of(o) in names] or [o for n in names for o in dep.of(n)]


def _resolvers(dep: Deployment) -> list[Any]:
    return [getattr(o, "client_resolver", None) for o in layers_named(dep, SESSION_LAYERS)]


@check(
    "SW011",
    "forwarded headers without trusted proxies",
    WARNING,
    "Pass client_resolver=TrustedProxies([...your proxies]).asgi (or .wsgi) to the session "
    "middleware (SESSIONWARD_TRUSTED_PROXIES in Django), so client addresses (shown to users, "
    "used by the anomaly rules) are the clients', not the proxy's.",
)
def forwarded_without_proxies(dep: Deployment, deploy: bool) -> Iterator[str]:
    if dep.framework == "django":
        behind = dep.settings.get("SECURE_PROXY_SSL_HEADER") or dep.settings.get(
            "USE_X_FORWARDED_HOST"
        )
        if behind and not dep.settings.get("SESSIONWARD_TRUSTED_PROXIES"):
            yield "Django trusts a proxy's headers, but SESSIONWARD_TRUSTED_PROXIES is empty."
        return
    if not _proxy_layers(dep):
        return
    for resolver in _resolvers(dep):
        if name_of(getattr(resolver, "__self__", None)) != "TrustedProxies":
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
        *(getattr(o, "proxies", None) for o in layers_named(dep, REDIRECT_LAYERS)),
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
            yield f"{name_of(layer)} trusts forwarded headers from every address."
