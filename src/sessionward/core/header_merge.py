"""The one rule for adding our headers to a response's own (sans-I/O).

Every shell (ASGI, WSGI, Flask, Django, device binding, the security-headers middleware) adds
headers to what the app answered through :func:`merge_headers`:

- session headers (``app_wins=False``): our ``Cache-Control`` replaces the app's (a
  personalised response must not be cached), ``Vary`` values from both sides are joined into
  one header without repeats, and a line already present is not added twice;
- defaults (``app_wins=True``, the security headers): ours are added only where the app did
  not set that header itself.

Names are compared case-insensitively; the headers we add use lower-case names.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any, AnyStr

Headers = list[tuple[str, str]]
RawHeaders = list[tuple[bytes, bytes]]

#: What every response that used the session carries (see ``flows.response_headers``).
SESSION_HEADERS: tuple[tuple[str, str], ...] = (("cache-control", "no-store"), ("vary", "Cookie"))

#: Our value replaces the app's for these (session headers only).
_OURS_REPLACE = frozenset({"cache-control"})
_OURS_REPLACE_RAW = frozenset({b"cache-control"})
#: Constant lines encoded once, not on every response.
_RAW_KNOWN = {
    pair: (pair[0].encode("latin-1"), pair[1].encode("latin-1")) for pair in SESSION_HEADERS
}


def merge_headers(
    existing: Iterable[tuple[AnyStr, AnyStr]],
    extra: Iterable[tuple[AnyStr, AnyStr]],
    *,
    app_wins: bool = False,
) -> list[tuple[AnyStr, AnyStr]]:
    """The response's headers ``existing`` with ``extra`` added (see the module docstring).

    Both sides are text pairs, or both ASGI's raw ``bytes`` pairs (the ASGI shell merges in
    bytes, so the app's headers are never decoded and re-encoded on the hot path).
    """
    current: list[Any] = list(existing)
    added: list[Any] = list(extra)
    if not added:
        return current
    if app_wins:
        present: set[Any] = {name.lower() for name, _ in current}
        return [*current, *((n, v) for n, v in added if n.lower() not in present)]
    raw = isinstance(added[0][0], bytes)
    vary_name: Any = b"vary" if raw else "vary"
    added_names: set[Any] = set()
    for name, _ in added:
        added_names.add(name.lower())
    if _touches(current, added_names, vary_name):
        return _merge_ours(current, added, added_names, raw)
    # The common case: the app set none of the headers we add, nor Vary, so its lines stay as
    # they are and ours follow, merged among themselves: the same few sets on every response,
    # so that merge is remembered. A cookie line carries a token: never remembered.
    if (b"set-cookie" if raw else "set-cookie") not in added_names:
        try:
            current.extend(_merged_alone(tuple(added), raw))
            return current
        except TypeError:  # unhashable pairs (lists): merged below like any other
            pass
    current.extend(_merge_ours([], added, added_names, raw))
    return current


def _touches(current: list[Any], names: set[Any], vary_name: Any) -> bool:
    """Whether any of the app's lines is not a plain pair, a Vary, or under one of ``names``."""
    for pair in current:
        if type(pair) is not tuple:
            return True  # the full merge rebuilds every line as a tuple
        lower = pair[0].lower()
        if lower == vary_name or lower in names:
            return True
    return False


@lru_cache(maxsize=64)
def _merged_alone(added: tuple[Any, ...], raw: bool) -> tuple[Any, ...]:
    """Our cookie-free lines merged among themselves (the same few sets on every response)."""
    return tuple(_merge_ours([], list(added), {name.lower() for name, _ in added}, raw))


def _merge_ours(
    current: list[Any], added: list[Any], added_names: set[Any], raw: bool
) -> list[Any]:
    """The session-headers rule (``app_wins=False``) of :func:`merge_headers`."""
    vary_name: Any = b"vary" if raw else "vary"
    comma: Any = b"," if raw else ","
    ours_replace: Any = _OURS_REPLACE_RAW if raw else _OURS_REPLACE
    replaced = added_names & ours_replace
    out: list[Any] = []
    vary: list[Any] = []
    seen: set[Any] = set()  # the app's lines under names we also add
    for name, value in current:
        lower = name.lower()
        if lower == vary_name:
            vary.extend(value.split(comma))
        elif lower not in replaced:
            out.append((name, value))
            if lower in added_names:
                seen.add((lower, value))
    for name, value in added:
        lower = name.lower()
        if lower == vary_name:
            vary.extend(value.split(comma))
        elif (lower, value) not in seen:
            seen.add((lower, value))
            out.append((name, value))
    parts: list[Any] = []
    lowered: set[Any] = set()
    for item in vary:
        part = item.strip()
        if part and part.lower() not in lowered:
            lowered.add(part.lower())
            parts.append(part)
    if parts:
        separator: Any = b", " if raw else ", "
        out.append((vary_name, separator.join(parts)))
    return out


def text_headers(raw: Iterable[tuple[bytes, bytes]]) -> Headers:
    """ASGI's raw header pairs as text (latin-1, as HTTP/1.1 defines them)."""
    return [(bytes(n).decode("latin-1"), bytes(v).decode("latin-1")) for n, v in raw]


def raw_headers(headers: Iterable[tuple[str, str]]) -> RawHeaders:
    """Text header pairs as ASGI's raw bytes."""
    out: RawHeaders = []
    for pair in headers:
        known = _RAW_KNOWN.get(pair) if type(pair) is tuple else None
        out.append(
            (pair[0].encode("latin-1"), pair[1].encode("latin-1")) if known is None else known
        )
    return out
