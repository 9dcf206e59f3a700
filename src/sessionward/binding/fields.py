"""The few RFC 9651 structured-field shapes DBSC uses, formatted and parsed by hand.

Only what the protocol needs: an sf-string with parameters (``Secure-Session-Challenge``,
``Secure-Session-Response``, ``Sec-Secure-Session-Id``) and one registration list entry
(``(ES256 RS256);path="...";challenge="..."``). Parsing never raises: input that is not the
expected shape is ``None``, which the endpoints answer with a 4xx.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: Longest header value we look at; a proof JWT with an RSA-4096 JWK is about 1.5 KiB.
MAX_FIELD = 16 * 1024
_TOKEN = re.compile(r"[A-Za-z*][A-Za-z0-9!#$%&'*+\-.^_`|~:/]*")
_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
# Bare values accepted where an sf-string is expected (older Chromium sent bare JWTs).
_BARE = re.compile(r"[A-Za-z0-9_\-.~]+")


def sf_string(value: str) -> str:
    """Serialise ``value`` as an sf-string; only printable ASCII can be one."""
    if any(not (0x20 <= ord(c) <= 0x7E) for c in value):
        raise ValueError("an sf-string holds printable ASCII only")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _params(params: Iterable[tuple[str, str]]) -> str:
    out = []
    for key, value in params:
        if not _KEY.fullmatch(key):
            raise ValueError(f"{key!r} is not a structured-field key")
        out.append(f";{key}={sf_string(value)}")
    return "".join(out)


def registration_entry(algorithms: Iterable[str], **params: str) -> str:
    """One ``Secure-Session-Registration`` list member: an inner list of tokens + params."""
    algs = list(algorithms)
    if not algs or not all(_TOKEN.fullmatch(a) for a in algs):
        raise ValueError("algorithms must be structured-field tokens")
    return "(" + " ".join(algs) + ")" + _params(params.items())


def string_item(value: str, **params: str) -> str:
    """An sf-string item with parameters, e.g. ``"challenge";id="session"``."""
    return sf_string(value) + _params(params.items())


def parse_string_item(raw: str | bytes | None) -> str | None:
    """The string of an sf-string item (parameters ignored), or ``None`` if it is not one.

    A bare value of URL-safe characters is accepted too: it is what older Chromium sent, and
    nothing it could contain changes what the endpoints check.
    """
    if raw is None:
        return None
    if isinstance(raw, bytes):
        raw = raw.decode("latin-1")
    if len(raw) > MAX_FIELD:
        return None
    text = raw.strip(" \t")
    if not text:
        return None
    if text[0] != '"':
        bare = text.split(";", 1)[0].strip(" \t")
        return bare if _BARE.fullmatch(bare) else None
    out: list[str] = []
    i = 1
    while i < len(text):
        char = text[i]
        if char == "\\":
            if i + 1 >= len(text) or text[i + 1] not in '"\\':
                return None
            out.append(text[i + 1])
            i += 2
            continue
        if char == '"':
            rest = text[i + 1 :].strip(" \t")
            if rest and not rest.startswith(";"):
                return None  # a list of several items where one was expected
            return "".join(out)
        if not (0x20 <= ord(char) <= 0x7E):
            return None
        out.append(char)
        i += 1
    return None  # no closing quote
