"""The one place that writes ``Set-Cookie`` and reads the session cookie.

Every cookie sessionward sends goes through :func:`dump_cookie`, which validates each
attribute, so no other module formats cookie strings by hand.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Literal

from ..errors import ConfigurationError
from .slots import slot_setters

SameSite = Literal["lax", "strict", "none"]

# RFC 6265 cookie-name token characters (no separators, no controls).
_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 6265 cookie-octet: printable ASCII except space, DQUOTE, comma, semicolon, backslash.
_VALUE = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")
_PATH = re.compile(r"/[\x20-\x3a\x3c-\x7e]*")
_DOMAIN = re.compile(r"[A-Za-z0-9.-]+")
_SIZE_WARNING = 4093  # browsers drop cookies above ~4096 bytes


@dataclass(frozen=True, slots=True)
class CookieConfig:
    """Attributes of the session cookie, secure by default.

    The default name carries the ``__Host-`` prefix, which browsers honour only for cookies that
    are Secure, have ``Path=/`` and no ``Domain``: a sibling subdomain or a plain-HTTP page then
    cannot plant or overwrite it (cookie tossing, fixation).

    ``persistent=False`` makes it a browser-session cookie: no ``Max-Age``/``Expires``, so the
    browser drops it when it closes. The server's idle and absolute timeouts hold either way.
    A framework shell may choose per session (Flask's ``session.permanent``).

    Plain HTTP on a development machine needs ``CookieConfig.development()``, which drops Secure
    and the prefix and says so with a warning.

    ``name`` is the name you choose (``"session"``); :attr:`wire_name` is the one the browser sees
    (``"__Host-session"`` by default). Read ``wire_name`` to find the cookie in a request.
    """

    name: str = "session"
    host_prefix: bool = True
    secure: bool = True
    http_only: bool = True
    same_site: SameSite = "lax"
    path: str = "/"
    domain: str | None = None
    partitioned: bool = False
    persistent: bool = True

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name) or self.name.lower().startswith(("__host-", "__secure-")):
            raise ConfigurationError(
                f"cookie name {self.name!r} must be a plain token without a __Host-/__Secure- "
                f"prefix; sessionward adds __Host- itself when host_prefix=True"
            )
        if self.same_site not in ("lax", "strict", "none"):
            raise ConfigurationError("same_site must be 'lax', 'strict' or 'none'")
        if self.same_site == "none" and not self.secure:
            raise ConfigurationError(
                "SameSite=None requires Secure (browsers reject it otherwise); set secure=True "
                "or choose same_site='lax'"
            )
        if self.partitioned and not self.secure:
            raise ConfigurationError("partitioned cookies require secure=True")
        if not _PATH.fullmatch(self.path):
            raise ConfigurationError(f"cookie path {self.path!r} must start with '/' and be ASCII")
        if self.domain is not None and not _DOMAIN.fullmatch(self.domain):
            raise ConfigurationError(f"cookie domain {self.domain!r} is not a host name")
        if self.host_prefix:
            if not self.secure:
                raise ConfigurationError(
                    "the __Host- prefix requires secure=True; for plain-HTTP development use "
                    "CookieConfig.development()"
                )
            if self.domain is not None:
                raise ConfigurationError(
                    "the __Host- prefix forbids a Domain attribute; remove domain= or set "
                    "host_prefix=False (and accept that subdomains can then overwrite the cookie)"
                )
            if self.path != "/":
                raise ConfigurationError("the __Host- prefix requires path='/'")

    @classmethod
    def development(cls, **overrides: object) -> CookieConfig:
        """Cookie settings for plain-HTTP development: no Secure, no ``__Host-`` prefix."""
        warnings.warn(
            "sessionward: insecure development cookies (no Secure flag, no __Host- prefix); "
            "never use this in production",
            UserWarning,
            stacklevel=2,
        )
        values: dict[str, object] = {"host_prefix": False, "secure": False}
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    @property
    def wire_name(self) -> str:
        """The name on the wire: ``name`` with the ``__Host-`` prefix when ``host_prefix``."""
        return f"__Host-{self.name}" if self.host_prefix else self.name

    @property
    def cookie_name(self) -> str:
        """Deprecated alias of :attr:`wire_name` (removed in the next release)."""
        warnings.warn(
            "CookieConfig.cookie_name is deprecated; use CookieConfig.wire_name (the name on "
            "the wire, with its prefix)",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.wire_name


def dump_cookie(config: CookieConfig, value: str, *, max_age: int | None) -> str:
    """Format one ``Set-Cookie`` header value.

    ``max_age=0`` expires the cookie; ``max_age=None`` writes a browser-session cookie (no
    ``Max-Age``, no ``Expires``).
    """
    if not _VALUE.fullmatch(value):
        raise ValueError("cookie value contains characters outside RFC 6265 cookie-octet")
    if max_age is not None and (
        isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 0
    ):
        raise ValueError("max_age must be a non-negative integer or None")
    parts = [f"{config.wire_name}={value}", f"Path={config.path}"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if max_age == 0:
        # Some old clients ignore Max-Age; an Expires in the past removes the cookie there too.
        parts.append("Expires=Thu, 01 Jan 1970 00:00:00 GMT")
    if config.domain is not None:
        parts.append(f"Domain={config.domain}")
    if config.secure:
        parts.append("Secure")
    if config.http_only:
        parts.append("HttpOnly")
    parts.append(f"SameSite={config.same_site.capitalize()}")
    if config.partitioned:
        parts.append("Partitioned")
    header = "; ".join(parts)
    if len(header) > _SIZE_WARNING:
        warnings.warn(
            f"cookie {config.wire_name} is {len(header)} bytes; browsers may drop it",
            stacklevel=2,
        )
    return header


def expire_cookie(config: CookieConfig) -> str:
    return dump_cookie(config, "", max_age=0)


@dataclass(frozen=True, slots=True)
class CookieLookup:
    """What the Cookie header said about one cookie.

    ``value`` is set when the cookie was present once, or several times with one and the same
    value (some clients and proxies repeat a cookie). ``duplicate`` is set when copies differ:
    a sign of cookie tossing, and ambiguous, so none is used. ``tossed`` is set when a pair's
    name is ours only after normalising (other whitespace, case): never used, to be reported.
    """

    value: str | None = None
    present: bool = False
    duplicate: bool = False
    tossed: bool = False


_ABSENT = CookieLookup()
_set_value, _set_present, _set_duplicate, _set_tossed = slot_setters(CookieLookup)


def _found(value: str, tossed: bool) -> CookieLookup:
    """``CookieLookup(value=value, present=True, tossed=tossed)``, built as :mod:`.slots`
    says: the lookup of every request that carries a session cookie."""
    lookup: CookieLookup = object.__new__(CookieLookup)
    _set_value(lookup, value)
    _set_present(lookup, True)
    _set_duplicate(lookup, False)
    _set_tossed(lookup, tossed)
    return lookup


MAX_COOKIE_HEADER = 16 * 1024
# RFC 6265 (and 6265bis) optional whitespace is SP and HTAB only. ``str.strip()`` also removes
# U+00A0, U+0085, U+3000, VT, FF, CR, LF...: a sibling subdomain can set a cookie named
# "\xa0__Host-session" with Domain= the parent (browsers do not see a __Host- prefix there, so
# they store it) and a reader that strips would take it for the real __Host- cookie.
_OWS = " \t"


def _lookalike(name: str, ours: str) -> bool:
    """True when ``name`` reads as ``ours`` only after normalising whitespace or case."""
    if len(name) > 4 * len(ours) + 16:
        return False
    squeezed = "".join(ch for ch in name if not (ch.isspace() or not ch.isprintable()))
    return squeezed.casefold() == ours.casefold()


def find_cookie(header: str | bytes | None, name: str) -> CookieLookup:
    """Find one cookie in a ``Cookie`` header without trusting its bytes.

    Bytes are decoded as Latin-1 (which cannot fail), so non-UTF-8 input is merely a value that
    will not validate, never an exception. Oversized headers are ignored wholesale. Names
    compare exactly; only SP and HTAB around names and values are optional whitespace.
    """
    if not header:
        return _ABSENT
    text = header.decode("latin-1") if isinstance(header, bytes) else header
    if len(text) > MAX_COOKIE_HEADER:
        return CookieLookup(present=True)
    found: list[str] = []
    tossed = False
    for part in text.split(";"):
        key, sep, val = part.partition("=")
        if not sep:
            continue
        key = key.strip(_OWS)
        if key != name:
            # A name with non-token bytes is never ours; if it would be ours after
            # normalising, someone is trying to pass it off as ours.
            tossed = tossed or _lookalike(key, name)
            continue
        val = val.strip(_OWS)
        if len(val) >= 2 and val[0] == val[-1] == '"':
            val = val[1:-1]
        found.append(val)
    if not found:
        return CookieLookup(tossed=True) if tossed else _ABSENT
    if len(found) > 1 and found.count(found[0]) != len(found):  # copies that differ
        return CookieLookup(present=True, duplicate=True, tossed=tossed)
    return _found(found[0], tossed)
