"""Readable device labels from a User-Agent ("Firefox 130 on Linux"), for display only.

A User-Agent is whatever the client chose to send: the label helps a user recognise their own
sessions and an operator read the audit trail, and the *key* (browser, OS and device family,
without versions) tells the new-device rule whether a login comes from something seen before.
Neither is ever used to authorise anything.

Parsing uses ua-parser (extra ``devices``), imported on first use so that ``import
sessionward`` never pulls it in. Results are cached (bounded), so a busy client costs one parse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

MAX_LABEL = 80
_CACHE_SIZE = 2048


@dataclass(frozen=True, slots=True)
class Device:
    """What a User-Agent says about the client, reduced to what we display and compare."""

    label: str
    #: browser/OS/device families without versions: stable across browser updates.
    key: str


#: Turns a User-Agent (or ``None``) into a :class:`Device`, or ``None`` when there is nothing
#: to say. Plug in your own to use another parser or to switch labelling off.
DeviceLabeler = Callable[[str | None], Device | None]


def _clean(text: str | None) -> str | None:
    if not text or text == "Other":
        return None
    return "".join(ch for ch in text if ch.isprintable())[:40] or None


def _join(*parts: str | None) -> str:
    return " ".join(p for p in parts if p)


def device_from_parsed(browser: Any, os: Any, device: Any) -> Device | None:
    """Build a :class:`Device` from ua-parser's three parts (any of them ``None``)."""
    family = _clean(getattr(browser, "family", None))
    system = _clean(getattr(os, "family", None))
    hardware = _clean(getattr(device, "family", None))
    if family is None and system is None and hardware is None:
        return None
    name = _join(family, _clean(getattr(browser, "major", None))) or "Unknown browser"
    where = _join(system, _clean(getattr(os, "major", None))) if system else None
    label = name if where is None else f"{name} on {where}"
    if hardware and hardware not in ("Spider", "Mac", "Generic Smartphone"):
        label = f"{label} ({hardware})"
    key = "/".join(p or "-" for p in (family, system, hardware))
    return Device(label=label[:MAX_LABEL], key=key[:MAX_LABEL])


class UAParserLabeler:
    """The default :data:`DeviceLabeler`, built on ua-parser.

    Raises ``ImportError`` naming the extra when ua-parser is not installed.
    """

    def __init__(self, cache_size: int = _CACHE_SIZE) -> None:
        try:
            import ua_parser
        except ImportError as exc:  # pragma: no cover - exercised without the extra only
            raise ImportError(
                "device labels need ua-parser: pip install 'sessionward[devices]'"
            ) from exc
        parse = ua_parser.parse
        # The first parse compiles ua-parser's patterns (~0.1 s): pay it at start-up, not in
        # the first request.
        parse("Mozilla/5.0")

        @lru_cache(maxsize=cache_size)
        def label(user_agent: str) -> Device | None:
            result = parse(user_agent)
            return device_from_parsed(result.user_agent, result.os, result.device)

        self._label = label

    def __call__(self, user_agent: str | None) -> Device | None:
        if not user_agent:
            return None
        return self._label(user_agent)


def default_labeler() -> DeviceLabeler | None:
    """ua-parser's labeler when the ``devices`` extra is installed, otherwise ``None``.

    Without labels, screens fall back to the (truncated) User-Agent and the new-device rule
    compares whole User-Agent strings.
    """
    try:
        return UAParserLabeler()
    except ImportError:
        return None
