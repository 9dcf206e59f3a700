"""The request as sessionward reads it, built once per request by each shell (sans-I/O).

Every part of sessionward that looks at a request (the session middleware, CSRF, the security
headers and HTTPS redirect, bearer tokens, device binding, the Flask and Django shells) reads
this one :class:`RequestView` instead of walking the raw headers itself, so each header is
interpreted in one place. :func:`from_asgi` and :func:`from_wsgi` build it from an ASGI scope
or a WSGI environ (plain dicts: no framework is imported here); :func:`view_of_scope` and
:func:`view_of_environ` build it at most once per request and keep it in the scope/environ.

Header values are text decoded as latin-1, as HTTP/1.1 defines them; the Cookie header keeps
the type the server gave (``bytes`` under ASGI, ``str`` under WSGI) because the cookie parser
decides itself what a non-UTF-8 cookie means.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from .slots import slot_setters

#: The key under which a shell keeps the view in the ASGI scope or the WSGI environ.
VIEW_KEY = "sessionward.request_view"

#: The request headers sessionward reads (lower-case). Others are not copied.
READ = frozenset(
    {
        "accept",
        "authorization",
        "content-type",
        "forwarded",
        "host",
        "origin",
        "referer",
        "sec-fetch-site",
        "sec-secure-session-id",
        "secure-session-response",
        "user-agent",
        "x-csrf-token",
        "x-forwarded-for",
        "x-forwarded-proto",
    }
)
_READ_RAW = {name.encode("ascii"): name for name in READ}
_WSGI_NAMES = {
    ("CONTENT_TYPE" if name == "content-type" else "HTTP_" + name.upper().replace("-", "_")): name
    for name in READ
}


@dataclass(frozen=True, slots=True)
class RequestView:
    """What sessionward reads from one request."""

    method: str
    path: str
    scheme: str
    peer: str | None
    cookie: str | bytes | None = None
    headers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        """The first line of header ``name`` (lower-case), or ``None``."""
        lines = self.headers.get(name)
        return lines[0] if lines else None

    def lines(self, name: str) -> tuple[str, ...]:
        """Every line of header ``name`` in arrival order (a proxy appends its own last)."""
        return self.headers.get(name, ())

    @property
    def host(self) -> str | None:
        return self.header("host")

    @property
    def origin(self) -> str | None:
        return self.header("origin")

    @property
    def referer(self) -> str | None:
        return self.header("referer")

    @property
    def sec_fetch_site(self) -> str | None:
        return self.header("sec-fetch-site")

    @property
    def content_type(self) -> str | None:
        return self.header("content-type")

    @property
    def authorization(self) -> str | None:
        return self.header("authorization")

    @property
    def secure(self) -> bool:
        return self.scheme in ("https", "wss")


_set_method, _set_path, _set_scheme, _set_peer, _set_cookie, _set_headers = slot_setters(
    RequestView
)


def _view(
    method: str,
    path: str,
    scheme: str,
    peer: str | None,
    cookie: str | bytes | None,
    headers: Mapping[str, tuple[str, ...]],
) -> RequestView:
    """``RequestView(...)`` with every field given, built as :mod:`.slots` says."""
    view: RequestView = object.__new__(RequestView)
    _set_method(view, method)
    _set_path(view, path)
    _set_scheme(view, scheme)
    _set_peer(view, peer)
    _set_cookie(view, cookie)
    _set_headers(view, headers)
    return view


def from_asgi(scope: Mapping[str, Any]) -> RequestView:
    """The view of an ASGI ``http`` or ``websocket`` scope (one pass over its headers)."""
    found: dict[str, list[str]] = {}
    cookies: list[bytes] = []
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            cookies.append(bytes(value))
        else:
            key = _READ_RAW.get(name)
            if key is None:
                continue
            lines = found.get(key)
            if lines is None:
                found[key] = [bytes(value).decode("latin-1")]
            else:
                lines.append(bytes(value).decode("latin-1"))
    headers: dict[str, tuple[str, ...]] = {}
    for key, lines in found.items():
        headers[key] = tuple(lines)
    plain = "ws" if scope.get("type") == "websocket" else "http"
    peer = scope.get("client")
    return _view(
        str(scope.get("method", "GET")).upper(),
        str(scope.get("path", "/")),
        str(scope.get("scheme", plain)),
        peer[0] if peer else None,
        b"; ".join(cookies) if cookies else None,
        headers,
    )


def from_wsgi(environ: Mapping[str, Any]) -> RequestView:
    """The view of a WSGI environ (PEP 3333: one line per header, already joined)."""
    found = {name: (str(environ[key]),) for key, name in _WSGI_NAMES.items() if key in environ}
    # PEP 3333 hands PATH_INFO over as latin-1-decoded bytes; re-decode it as UTF-8 like ASGI.
    raw = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", "")) or "/"
    return RequestView(
        method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
        path=raw.encode("latin-1", "replace").decode("utf-8", "replace"),
        scheme=str(environ.get("wsgi.url_scheme", "http")),
        peer=environ.get("REMOTE_ADDR"),
        cookie=environ.get("HTTP_COOKIE"),
        headers=found,
    )


def view_of_scope(scope: Mapping[str, Any]) -> RequestView:
    """The scope's view, built on first use. Rebuilt if a middleware since replaced the
    headers or changed the scheme (the HTTPS redirect behind a proxy does), path or peer."""
    # (``type() is dict`` first: an ABC isinstance check costs more than the cache saves.)
    if type(scope) is not dict and not isinstance(scope, MutableMapping):
        return from_asgi(scope)
    cached = scope.get(VIEW_KEY)
    headers = scope.get("headers")
    if isinstance(cached, tuple) and cached[0] is headers:
        view: RequestView = cached[1]
        peer = scope.get("client")
        if (
            view.scheme == scope.get("scheme", view.scheme)
            and view.path == scope.get("path", view.path)
            and view.peer == (peer[0] if peer else None)
        ):
            return view
    view = from_asgi(scope)
    scope[VIEW_KEY] = (headers, view)
    return view


def view_of_environ(environ: Mapping[str, Any]) -> RequestView:
    """The environ's view, built on first use (rebuilt if a proxy fix changed the
    scheme, peer or host since)."""
    if type(environ) is not dict and not isinstance(environ, MutableMapping):
        return from_wsgi(environ)
    cached = environ.get(VIEW_KEY)
    if (
        isinstance(cached, RequestView)
        and cached.scheme == environ.get("wsgi.url_scheme")
        and cached.peer == environ.get("REMOTE_ADDR")
        and cached.host == environ.get("HTTP_HOST")
    ):
        return cached
    view = from_wsgi(environ)
    environ[VIEW_KEY] = view
    return view
