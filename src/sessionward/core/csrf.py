"""Cross-site request forgery: the pure decisions behind the CSRF middlewares.

The attack: a page on another site makes the victim's browser send a state-changing request
(a form POST, a ``fetch``) to our app. The browser attaches the victim's cookies, so without a
defence the request runs with the victim's session. Two independent checks stop it:

1. **Where the request comes from.** Browsers label every request with ``Sec-Fetch-Site``
   (Fetch Metadata), which a page cannot forge. An unsafe method is accepted only when it says
   ``same-origin`` (or ``none``: the user typed or bookmarked it). Older browsers do not send
   it; then the ``Origin`` header must name our origin or a configured trusted one, and over
   HTTPS a request without ``Origin`` must carry a same-origin ``Referer``.
2. **A secret the attacker cannot read** (defence in depth, and for clients whose headers are
   stripped by a proxy): a synchronizer token, HMAC-SHA256 over the session's *CSRF epoch*
   under the server's :class:`~sessionward.core.keys.SecretKeyRing`, sent back in a form field
   or a header. The epoch is a value kept in the session's data (:data:`SESSION_DATA_KEY`):
   periodic renewal carries it to the new ID (a form rendered before a renewal still submits),
   while login and rotation (privilege change) drop it, so every older token dies there.
   It is bound to the session, so a token from the attacker's own session is useless. Each response
   masks it with fresh random bytes, so a compressed page never repeats the same secret bytes
   (BREACH) and the token cannot be recovered by a compression side channel.

Login CSRF (making the victim log in as the attacker) happens before any session exists. The
login form's token is bound instead to a *pre-session* nonce kept in a short-lived, signed,
``__Host-`` prefixed, HttpOnly cookie: a cross-site page can neither read it nor plant it.

Everything here is a pure function of its inputs; the ASGI and WSGI shells only translate.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeGuard
from urllib.parse import urlsplit

from ..errors import ConfigurationError
from .csrf_exempt import Exemptions as Exemptions
from .csrf_exempt import is_cookieless_bearer as is_cookieless_bearer
from .csrf_exempt import parse_exempt as parse_exempt
from .keys import SecretKeyRing

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FIELD_NAME = "csrf_token"
HEADER_NAME = "x-csrf-token"
PRESESSION_COOKIE = "csrf"

_RAW_BYTES = 32
# base64url without padding of mask (32 bytes) + masked token (32 bytes).
MASKED_LENGTH = 86
_MASKED_SHAPE = re.compile(rb"[A-Za-z0-9_-]{86}")
_NONCE_BYTES = 16
_PRESESSION_LENGTH = 75  # base64url of nonce (16) + issued-at (8) + MAC (32) = 56 bytes
_PRESESSION_SHAPE = re.compile(r"[A-Za-z0-9_-]{75}")
_HOST = re.compile(r"(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?")
_DEFAULT_PORTS = {"http": "80", "https": "443"}
MAX_HEADER = 4096


class Reason(StrEnum):
    """Why a request was rejected; recorded in the ``csrf.rejected`` audit event."""

    CROSS_SITE = "fetch-metadata-cross-site"
    FETCH_METADATA_INVALID = "fetch-metadata-invalid"
    ORIGIN_MISMATCH = "origin-mismatch"
    ORIGIN_MISSING = "origin-missing"
    REFERER_MISMATCH = "referer-mismatch"
    REFERER_MISSING = "referer-missing"
    TOKEN_MISSING = "token-missing"  # noqa: S105 (a reason code, not a secret)
    TOKEN_MALFORMED = "token-malformed"  # noqa: S105
    TOKEN_INVALID = "token-invalid"  # noqa: S105
    NO_BINDING = "no-session-or-presession"


_PUBLIC_MESSAGES = {
    Reason.CROSS_SITE: "The request came from another site.",
    Reason.FETCH_METADATA_INVALID: "The request carried an invalid Sec-Fetch-Site header.",
    Reason.ORIGIN_MISMATCH: "The request's Origin is not this site.",
    Reason.ORIGIN_MISSING: "The request has no Origin header.",
    Reason.REFERER_MISMATCH: "The request's Referer is not this site.",
    Reason.REFERER_MISSING: "The request has neither an Origin nor a Referer header.",
    Reason.TOKEN_MISSING: "The form or request carries no CSRF token.",
    Reason.TOKEN_MALFORMED: "The CSRF token is malformed.",
    Reason.TOKEN_INVALID: "The CSRF token is not valid for this session (it may have expired).",
    Reason.NO_BINDING: "The page that sent this form has expired.",
}


# -- origins ----------------------------------------------------------------------------


def normalise_origin(text: str) -> str | None:
    """``scheme://host[:port]`` in lower case without a default port, or None if not one."""
    if not text or len(text) > MAX_HEADER or not text.isascii():
        return None
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is not None and str(port) != _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}:{port}"
    return f"{scheme}://{host}"


def origin_of(scheme: str, host_header: str | None) -> str | None:
    """The origin a request was addressed to, from its scheme and ``Host`` header."""
    scheme = {"wss": "https", "ws": "http"}.get(scheme, scheme)
    if not host_header or len(host_header) > 300:
        return None
    host = host_header.strip().lower()
    if not _HOST.fullmatch(host):
        return None
    return normalise_origin(f"{scheme}://{host}")


def parse_trusted_origins(origins: Iterable[str]) -> frozenset[str]:
    """Validate configured origins (``https://app.example.com``); raise with the fix if bad."""
    if isinstance(origins, str):
        raise ConfigurationError(
            "trusted_origins must be a list of origins, e.g. ['https://app.example.com'], "
            "not a single string"
        )
    parsed: set[str] = set()
    for item in origins:
        origin = normalise_origin(item) if isinstance(item, str) else None
        if origin is None or urlsplit(item).path not in ("", "/") or "*" in item:
            raise ConfigurationError(
                f"trusted origin {item!r} must be scheme://host[:port] with scheme http or "
                f"https and no path or wildcard, e.g. 'https://app.example.com'"
            )
        parsed.add(origin)
    return frozenset(parsed)


def check_source(
    method: str,
    *,
    app_origin: str | None,
    trusted: frozenset[str],
    secure: bool,
    sec_fetch_site: str | None,
    origin: str | None,
    referer: str | None,
) -> Reason | None:
    """Whether an unsafe request comes from our own origin; None when it does.

    Safe methods always pass (they must not change state). Otherwise Fetch Metadata decides
    when present; ``same-site`` and ``cross-site`` are allowed only from a trusted origin.
    Without it, ``Origin`` decides, then (over HTTPS only) ``Referer``.
    """
    if method.upper() in SAFE_METHODS:
        return None
    allowed = trusted if app_origin is None else trusted | {app_origin}
    presented = None if origin is None else normalise_origin(origin)
    if sec_fetch_site is not None:
        site = sec_fetch_site.strip().lower()
        if site in ("same-origin", "none"):
            return None
        if site in ("same-site", "cross-site"):
            # A sibling subdomain or another site: only an explicitly trusted origin may post.
            if presented is not None and presented in trusted:
                return None
            return Reason.CROSS_SITE
        return Reason.FETCH_METADATA_INVALID
    if origin is not None:
        # "Origin: null" (sandboxed frames, some redirects) normalises to None: never trusted.
        return None if presented is not None and presented in allowed else Reason.ORIGIN_MISMATCH
    if not secure:
        # Over plain HTTP a Referer proves nothing (a network attacker can write it).
        return Reason.ORIGIN_MISSING
    if not referer:
        return Reason.REFERER_MISSING
    from_referer = normalise_origin(referer)
    if from_referer is None or from_referer not in allowed:
        return Reason.REFERER_MISMATCH
    return None


def check_websocket(
    *, app_origin: str | None, trusted: frozenset[str], origin: str | None
) -> Reason | None:
    """Cross-site WebSocket hijacking: a handshake is a GET that carries the victim's cookies.

    Browsers always send ``Origin`` on a WebSocket handshake and pages cannot forge it, so a
    handshake from a browser must come from our origin or a trusted one. A client without
    ``Origin`` is not a browser and cannot be steered by another site's page.
    """
    if origin is None:
        return None
    allowed = trusted if app_origin is None else trusted | {app_origin}
    presented = normalise_origin(origin)
    return None if presented is not None and presented in allowed else Reason.ORIGIN_MISMATCH


# -- tokens -----------------------------------------------------------------------------


#: The session-data key holding a session's CSRF epoch. Login and rotation drop it (see
#: ``flows``); renewal carries the data, and with it the epoch, to the new ID.
SESSION_DATA_KEY = "_sessionward.csrf"
_EPOCH = re.compile(r"[0-9a-f]{32}")


def new_epoch(store_key: str) -> str:
    """The epoch a session gets when its first token is issued after login or rotation.

    Derived from the store key it has at that moment rather than drawn at random, so two
    concurrent first requests write the same value and neither's tokens are lost.
    """
    digest = hashlib.sha256(b"sessionward.csrf-epoch:" + store_key.encode("ascii", "replace"))
    return digest.hexdigest()[:32]


def is_epoch(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and _EPOCH.fullmatch(value) is not None


def session_binding(epoch: str) -> bytes:
    """What a session's tokens are bound to: its CSRF epoch (see :func:`new_epoch`)."""
    return b"session:" + epoch.encode("ascii", "replace")


def presession_binding(nonce: bytes) -> bytes:
    return b"presession:" + nonce


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: bytes, length: int) -> bytes | None:
    try:
        raw = base64.urlsafe_b64decode(text + b"=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == length else None


def issue_token(keys: SecretKeyRing, binding: bytes) -> str:
    """A masked token: fresh in every response, all of them valid for ``binding``."""
    raw = keys.sign(binding, purpose="csrf")
    mask = secrets.token_bytes(_RAW_BYTES)
    return _b64(mask + bytes(a ^ b for a, b in zip(mask, raw, strict=True)))


def _as_bytes(presented: str | bytes) -> bytes | None:
    if isinstance(presented, bytes):
        return presented
    try:
        return presented.encode("ascii")
    except UnicodeEncodeError:
        return None


def verify_token(
    keys: SecretKeyRing, presented: str | bytes | None, bindings: Iterable[bytes]
) -> Reason | None:
    """Check a presented token against each acceptable binding; None when one matches.

    Total over its input: empty, huge, non-ASCII, non-UTF-8 and wrong-length values are a
    :attr:`Reason.TOKEN_MALFORMED`, never an exception. Bytes are compared in constant time.
    """
    if presented is None:
        return Reason.TOKEN_MISSING
    data = _as_bytes(presented)
    if not data:
        return Reason.TOKEN_MALFORMED if data is None else Reason.TOKEN_MISSING
    if len(data) != MASKED_LENGTH or not _MASKED_SHAPE.fullmatch(data):
        return Reason.TOKEN_MALFORMED
    decoded = _unb64(data, 2 * _RAW_BYTES)
    if decoded is None:
        return Reason.TOKEN_MALFORMED
    mask, masked = decoded[:_RAW_BYTES], decoded[_RAW_BYTES:]
    raw = bytes(a ^ b for a, b in zip(mask, masked, strict=True))
    ok = False
    for binding in bindings:
        ok |= keys.verify(binding, raw, purpose="csrf")
    return None if ok else Reason.TOKEN_INVALID


# -- the pre-session cookie -----------------------------------------------------------------


def new_presession(keys: SecretKeyRing, now: float) -> tuple[bytes, str]:
    """A fresh pre-session nonce and the signed cookie value that carries it."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    body = nonce + struct.pack(">Q", max(0, int(now)))
    return nonce, _b64(body + keys.sign(body, purpose="csrf-presession"))


def read_presession(
    keys: SecretKeyRing, value: str | None, now: float, max_age: float
) -> bytes | None:
    """The nonce in a pre-session cookie if it is ours, intact and younger than ``max_age``."""
    if value is None or len(value) != _PRESESSION_LENGTH or not _PRESESSION_SHAPE.fullmatch(value):
        return None
    raw = _unb64(value.encode("ascii"), _NONCE_BYTES + 8 + _RAW_BYTES)
    if raw is None:
        return None
    body, mac = raw[: _NONCE_BYTES + 8], raw[_NONCE_BYTES + 8 :]
    if not keys.verify(body, mac, purpose="csrf-presession"):
        return None
    (issued,) = struct.unpack(">Q", body[_NONCE_BYTES:])
    if not issued - 60 <= now < issued + max_age:  # a minute of clock skew between workers
        return None
    return body[:_NONCE_BYTES]


# -- the rejection response ---------------------------------------------------------------


def wants_json(accept: str | None) -> bool:
    """Whether the client prefers JSON to HTML (an API client rather than a browser page)."""
    if not accept:
        return False
    text = accept.lower()
    json_at = min(
        (i for i in (text.find("application/json"), text.find("+json")) if i >= 0), default=-1
    )
    html_at = text.find("text/html")
    return json_at >= 0 and (html_at < 0 or json_at < html_at)


def rejection(reason: Reason, accept: str | None) -> tuple[str, bytes]:
    """Content type and body of the 403 answer to a rejected request."""
    message = _PUBLIC_MESSAGES[reason]
    if wants_json(accept):
        body = {"error": "csrf_rejected", "reason": reason.value, "message": message}
        return "application/json", json.dumps(body).encode("utf-8")
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>403 Forbidden: request rejected</title></head><body>"
        "<h1>403 Forbidden: request rejected</h1>"
        f"<p>{message} To protect your account this request was not carried out.</p>"
        "<p>If you sent it yourself, go back, reload the page and try again.</p>"
        f"<p><small>reason: <code>{reason.value}</code></small></p></body></html>"
    )
    return "text/html; charset=utf-8", html.encode("utf-8")


# -- configuration -------------------------------------------------------------------------


_NO_EXEMPTIONS = Exemptions()


@dataclass(frozen=True, slots=True)
class CSRFConfig:
    """Settings shared by the ASGI and WSGI CSRF middlewares, validated on construction.

    ``origin`` is the app's public origin (``https://app.example.com``); when None the origin
    is taken from each request's scheme and ``Host`` header, which a cross-site page cannot
    change in the victim's browser. ``trusted_origins`` may also post (a separate front end).
    ``exempt`` lists routes that skip every check (webhooks authenticated otherwise): exact
    paths, ``{name}`` route patterns or ``/prefix/*`` (see :mod:`.csrf_exempt`).
    """

    keys: SecretKeyRing
    origin: str | None = None
    trusted_origins: frozenset[str] = frozenset()
    exempt: Exemptions = _NO_EXEMPTIONS
    max_body_bytes: int = 1024 * 1024
    presession_max_age: int = 2 * 60 * 60

    def __init__(
        self,
        *,
        keys: SecretKeyRing,
        origin: str | None = None,
        trusted_origins: Iterable[str] = (),
        exempt: Iterable[str] = (),
        max_body_bytes: int = 1024 * 1024,
        presession_max_age: int = 2 * 60 * 60,
    ) -> None:
        if not isinstance(keys, SecretKeyRing):
            raise ConfigurationError(
                "keys must be a sessionward.SecretKeyRing, e.g. "
                "SecretKeyRing([os.environ['CSRF_SECRET']])"
            )
        app_origin = None
        if origin is not None:
            (app_origin,) = parse_trusted_origins([origin])
        for name, value, lower in (
            ("max_body_bytes", max_body_bytes, 1024),
            ("presession_max_age", presession_max_age, 60),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < lower:
                raise ConfigurationError(f"{name} must be an integer of at least {lower}")
        set_ = object.__setattr__
        set_(self, "keys", keys)
        set_(self, "origin", app_origin)
        set_(self, "trusted_origins", parse_trusted_origins(trusted_origins))
        set_(self, "exempt", parse_exempt(exempt))
        set_(self, "max_body_bytes", max_body_bytes)
        set_(self, "presession_max_age", presession_max_age)
