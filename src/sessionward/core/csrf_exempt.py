"""Which requests the CSRF middlewares do not check: configured routes and cookieless bearers.

A CSRF attack rides on a credential the browser attaches by itself: a cookie (or cached HTTP
Basic/NTLM credentials). Two kinds of request carry none, so there is nothing to forge:

* routes the app authenticates otherwise (a signed webhook, a token endpoint), listed in
  ``exempt``, each entry one of:

  - ``"/webhooks/stripe"``: exactly that path;
  - ``"/api/items/{item_id}"``: a route pattern, each ``{name}`` matching one non-empty path
    segment (the syntax of Starlette and Flask routes, without converters);
  - ``"/api/*"``: that prefix and everything below it (``/api/x``, ``/api/x/y``; not ``/apix``).
    ``*`` is allowed only as a whole last segment: exemptions stay explicit.

* a request with **no Cookie header at all** that authenticates with ``Authorization: Bearer``:
  browsers never add a bearer token on their own, and a page that could add one already holds
  the token. A request with both a cookie and a bearer token is still checked (the cookie is
  an ambient credential).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import ConfigurationError

_PATH = re.compile(r"/[\x21-\x7e]*")
_PARAM = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
_SEGMENT = "[^/]+"
_BEARER = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] +[A-Za-z0-9\-._~+/]+=*")
MAX_AUTHORIZATION = 8192


def _bad(entry: object) -> ConfigurationError:
    return ConfigurationError(
        f"CSRF exemption {entry!r} must be an exact path ('/webhooks/stripe'), a route pattern "
        f"with {{name}} segments ('/api/items/{{item_id}}') or a prefix ending in '/*' "
        f"('/api/*'); no other wildcards, no query"
    )


@dataclass(frozen=True, slots=True)
class Exemptions:
    """Parsed ``exempt`` entries; ``path in exemptions`` says whether a path is exempt."""

    exact: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, str):
            return False
        return (
            path in self.exact
            or any(path.startswith(prefix) for prefix in self.prefixes)
            or any(pattern.fullmatch(path) for pattern in self.patterns)
        )

    def __bool__(self) -> bool:
        return bool(self.exact or self.prefixes or self.patterns)


def parse_exempt(entries: Iterable[str]) -> Exemptions:
    """Validate ``exempt`` entries (see the module docstring); errors say what is allowed."""
    if isinstance(entries, str):
        raise ConfigurationError("exempt must be a list of paths, e.g. ['/webhooks/stripe']")
    exact: set[str] = set()
    prefixes: list[str] = []
    patterns: list[re.Pattern[str]] = []
    for entry in entries:
        if not isinstance(entry, str) or not _PATH.fullmatch(entry) or "?" in entry:
            raise _bad(entry)
        if entry.endswith("/*"):
            prefix = entry[:-1]
            if "*" in prefix or "{" in prefix or "}" in prefix:
                raise _bad(entry)
            prefixes.append(prefix)
            continue
        if "*" in entry:
            raise _bad(entry)
        if "{" not in entry and "}" not in entry:
            exact.add(entry)
            continue
        parts = _PARAM.split(entry)
        if any("{" in part or "}" in part for part in parts):
            raise _bad(entry)
        for param in _PARAM.finditer(entry):
            start, end = param.span()
            if entry[start - 1] != "/" or (end < len(entry) and entry[end] != "/"):
                raise _bad(entry)  # a parameter is a whole segment
        patterns.append(re.compile(_SEGMENT.join(re.escape(part) for part in parts)))
    return Exemptions(frozenset(exact), tuple(prefixes), tuple(patterns))


def is_cookieless_bearer(cookie_header: str | bytes | None, authorization: str | None) -> bool:
    """True for a request without any cookie that carries ``Authorization: Bearer <token>``."""
    if cookie_header or not authorization or len(authorization) > MAX_AUTHORIZATION:
        return False
    return _BEARER.fullmatch(authorization.strip(" \t")) is not None
