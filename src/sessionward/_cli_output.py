"""Output of the ``sessionward`` command: tables, JSON rows, audit lines, ``--since`` times."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Sequence
from typing import Any

import click

from .audit.base import AuditEntry
from .core.anomaly import META_DEVICE, last_ip
from .core.records import SessionRecord

_NAMED_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(value: object) -> str:
    """``value`` as text safe for a terminal and for one-line-per-event output.

    Audit fields can hold attacker text (user names, paths, header names): CR/LF would forge
    extra audit lines, ESC and other controls would drive the operator's terminal. Every
    character that is not printable (C0/C1 controls, DEL, line and paragraph separators, bidi
    and other format characters) is shown as a Python-style escape, and ``\\`` as ``\\\\``
    so escapes cannot be faked.
    """
    text = str(value)
    if text.isprintable() and "\\" not in text:
        return text
    out: list[str] = []
    for ch in text:
        if ch in _NAMED_ESCAPES:
            out.append(_NAMED_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) <= 0xFF:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
    return "".join(out)


def when(timestamp: float | None) -> str:
    if timestamp is None:
        return "-"
    moment = datetime.datetime.fromtimestamp(timestamp, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def session_dict(record: SessionRecord, now: float) -> dict[str, Any]:
    device = record.meta.get(META_DEVICE)
    return {
        "handle": record.handle,
        "user_id": record.user_id,
        "device": device if isinstance(device, str) else None,
        "user_agent": record.user_agent,
        "ip": record.ip,
        "last_ip": last_ip(record),
        "origin": record.origin,
        "created_at": when(record.created_at),
        "last_seen_at": when(record.last_seen_at),
        "authenticated_at": when(record.authenticated_at),
        "expires_at": when(record.expires_at),
        "expired": record.expires_at <= now,
        "flags": list(record.meta.get("flags") or []),
    }


def entry_dict(entry: AuditEntry) -> dict[str, Any]:
    data = entry.event.as_dict()
    return {"id": entry.id, **data, "time": when(entry.event.at)}


def print_table(rows: list[dict[str, Any]], columns: Sequence[str]) -> None:
    if not rows:
        click.echo("(none)")
        return
    cells = [
        [printable(row.get(c)) if row.get(c) is not None else "-" for c in columns] for row in rows
    ]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    widths = [min(w, 40) for w in widths]
    click.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in cells:
        click.echo("  ".join(v[:w].ljust(w) for v, w in zip(row, widths, strict=True)))


def print_entry(entry: AuditEntry, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(entry_dict(entry), separators=(",", ":"), default=str))
        return
    e = entry.event
    parts = [when(e.at), e.kind.value]
    for label, value in (
        ("user", e.user_id),
        ("session", e.handle),
        ("ip", e.ip),
        ("device", e.device),
        ("reason", e.reason),
    ):
        if value:
            parts.append(f"{label}={printable(value)}")
    if e.detail:
        # ensure_ascii escapes every control and non-ASCII character inside the JSON.
        parts.append(json.dumps(dict(e.detail), separators=(",", ":"), default=str))
    click.echo(" ".join(parts))


_DURATION = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str, now: float) -> float:
    """``24h``, ``7d``, ``30m``, ``90s`` (ago) or an ISO 8601 time (UTC unless it says)."""
    match = _DURATION.fullmatch(text.strip())
    if match:
        return now - int(match.group(1)) * _UNITS[match.group(2)]
    try:
        moment = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter("use a duration like 24h or 7d, or an ISO time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()
