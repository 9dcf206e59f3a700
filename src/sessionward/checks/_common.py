"""What the checks share: the layer names they look for and how to find them."""

from __future__ import annotations

import ipaddress
from typing import Any

from .discover import Deployment
from .model import Severity

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

#: DeviceBindingMiddleware (DBSC) loads the session itself, through a SessionMiddleware it holds.
SESSION_LAYERS = ("SessionMiddleware", "WSGISessionMiddleware", "DeviceBindingMiddleware")
#: CSRFProtect is the Flask extension (app.extensions["sessionward.csrf"]), not a layer.
CSRF_LAYERS = ("CSRFMiddleware", "WSGICSRFMiddleware", "CSRFProtect")
REDIRECT_LAYERS = ("HTTPSRedirectMiddleware", "WSGIHTTPSRedirectMiddleware")
HEADER_LAYERS = ("SecurityHeadersMiddleware", "WSGISecurityHeadersMiddleware")
ONE_YEAR = 365 * 24 * 3600
PLACEHOLDERS = ("change", "secret", "insecure", "example", "dummy", "password", "xxxx")


def name_of(obj: Any) -> str:
    return type(obj).__name__


def from_sessionward(obj: Any) -> bool:
    return type(obj).__module__.startswith("sessionward.")


def layers_named(dep: Deployment, names: tuple[str, ...]) -> list[Any]:
    return [o for o in dep.layers() if name_of(o) in names and from_sessionward(o)] or [
        o for n in names for o in dep.of(n)
    ]


def django_middleware(dep: Deployment) -> list[str]:
    value = dep.settings.get("MIDDLEWARE") or []
    return [str(m) for m in value]


def has_session(dep: Deployment) -> bool:
    if dep.managers or layers_named(dep, SESSION_LAYERS) or dep.of("SessionwardInterface"):
        return True
    return any("sessionward" in m for m in django_middleware(dep))


def loopback(host: str | None) -> bool:
    if not host or host.startswith("/") or host == "localhost":
        return True  # no host: a Unix socket or the client library's local default
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
