"""HTTPS enforcement behind proxies: which scheme a request really used, and where to redirect.

A TLS-terminating proxy talks plain HTTP to the app and says what the client used in
``X-Forwarded-Proto`` or ``Forwarded: proto=...``. Any client can send those headers too, so
they are believed only when the TCP peer is one of the configured proxy addresses; otherwise
a client on plain HTTP could claim ``https`` and skip the redirect (and get HSTS-less, cookie-
bearing pages over clear text).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote

from ..errors import ConfigurationError
from .proxies import TrustedProxies, parse_address

_HOST = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
_HOST_NAME = re.compile(r"[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]")
_PROTO = re.compile(r"""(?:^|;)\s*proto\s*=\s*"?([A-Za-z]+)"?\s*(?:;|$)""")


def parse_proxies(proxies: Iterable[str] | TrustedProxies) -> TrustedProxies:
    """Proxy addresses or networks (``"10.0.0.5"``, ``"10.0.0.0/8"``, ``"::1"``), validated."""
    if isinstance(proxies, TrustedProxies):
        return proxies
    if isinstance(proxies, str):
        raise ConfigurationError(
            "trusted_proxies must be a list of addresses, e.g. ['10.0.0.5'], not one string"
        )
    return TrustedProxies(proxies)


HeaderLines = str | Iterable[str] | None


def _last_element(lines: HeaderLines) -> str | None:
    """The last comma-separated element of one or several header lines, in arrival order."""
    if lines is None:
        return None
    if isinstance(lines, str):
        lines = [lines]
    last: str | None = None
    for line in lines:
        last = line.rsplit(",", 1)[-1]
    return last


def forwarded_scheme(
    scheme: str,
    *,
    peer: str | None,
    proxies: TrustedProxies,
    x_forwarded_proto: HeaderLines,
    forwarded: HeaderLines,
) -> str:
    """The scheme the client used: the connection's, or a trusted proxy's word for it.

    Only the header named by ``proxies.proto_header`` is read (the other may come straight
    from the client). The proxy next to us appends its value last (as a new element or a new
    line), so the last element of the last line, and only that, is believed; when it says
    nothing usable the connection's own scheme stands. ASGI and WSGI apply the same rule.
    """
    if not proxies.is_trusted(parse_address(peer) if peer else None):
        return scheme
    claimed: str | None = None
    if proxies.proto_header == "forwarded":
        last = _last_element(forwarded)
        match = _PROTO.search(last.lower()) if last else None
        if match:
            claimed = match.group(1)
    else:
        last = _last_element(x_forwarded_proto)
        claimed = last.strip().lower() if last else None
    return claimed if claimed in ("http", "https") else scheme


def redirect_target(
    host_header: str | None,
    path: str,
    query: str,
    *,
    host: str | None = None,
    port: int | None = None,
    allowed_hosts: frozenset[str] | None = None,
) -> str | None:
    """The ``https://`` URL to redirect to, or None when the ``Host`` header is unusable.

    With ``host`` configured the redirect always goes there, whatever the request claimed;
    otherwise, with ``allowed_hosts``, a ``Host`` whose name is not listed is unusable (never
    reflected into a ``Location``). ``port`` is the HTTPS port when it is not 443.
    """
    target = host if host is not None else (host_header or "").strip()
    if not target or len(target) > 300 or not _HOST.fullmatch(target):
        return None
    name, sep, current = target.rpartition(":")
    if host is None and allowed_hosts is not None:
        bare = name if sep and not current.endswith("]") else target
        if bare.lower().rstrip(".") not in allowed_hosts:
            return None
    if sep and not current.endswith("]"):
        target = name  # drop the plain-HTTP port; the HTTPS one is added below
    if port is not None and port != 443:
        target = f"{target}:{port}"
    elif port is None and sep and not current.endswith("]") and current not in ("80", "443"):
        target = f"{target}:{current}"
    safe_path = quote(path or "/", safe="/%:@!$&'()*+,;=-._~")
    if not safe_path.startswith("/") or safe_path.startswith("//"):
        safe_path = "/" + safe_path.lstrip("/")
    url = f"https://{target}{safe_path}"
    if query:
        url += "?" + quote(query, safe="=&%+;:@!$'()*,/?-._~")
    return url


def check_host(host: str | None) -> str | None:
    """Validate a configured canonical host for redirects."""
    if host is None:
        return None
    if not _HOST.fullmatch(host):
        raise ConfigurationError(
            f"redirect host {host!r} must be host[:port] without scheme or path, e.g. "
            f"'app.example.com'"
        )
    return host


def check_allowed_hosts(hosts: Iterable[str] | None) -> frozenset[str] | None:
    """Validate the host names a redirect may point to when no canonical ``host`` is set."""
    if hosts is None:
        return None
    if isinstance(hosts, str):
        raise ConfigurationError(
            "allowed_hosts must be a list of host names, e.g. ['app.example.com'], not one string"
        )
    parsed: set[str] = set()
    for name in hosts:
        if not isinstance(name, str) or not _HOST_NAME.fullmatch(name):
            raise ConfigurationError(
                f"allowed host {name!r} must be a host name without scheme, port or path, e.g. "
                f"'app.example.com'"
            )
        parsed.add(name.lower().rstrip("."))
    if not parsed:
        raise ConfigurationError(
            "allowed_hosts is empty, so every redirect would be refused; list your host names "
            "or leave allowed_hosts unset"
        )
    return frozenset(parsed)
