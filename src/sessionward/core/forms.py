"""Finding one field in a request body that may still be arriving (urlencoded or multipart).

The CSRF middlewares read a form body only until the token field has been seen, then hand
everything they read back to the app; these functions decide, on the bytes read so far, whether
the field is there and whether reading more could change the answer. They never raise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes


@dataclass(frozen=True, slots=True)
class FormScan:
    """Result of looking for the token in a (possibly partial) body.

    ``done`` is True when reading more of the body cannot change the answer.
    """

    value: bytes | None
    done: bool


def _content_type(header: str | None) -> tuple[str, dict[str, str]]:
    if not header:
        return "", {}
    kind, *params = header.split(";")
    options: dict[str, str] = {}
    for param in params:
        key, _, val = param.strip().partition("=")
        options[key.strip().lower()] = val.strip().strip('"')
    return kind.strip().lower(), options


def is_form(content_type: str | None) -> bool:
    kind, _ = _content_type(content_type)
    return kind in ("application/x-www-form-urlencoded", "multipart/form-data")


def scan_form(body: bytes, content_type: str | None, *, complete: bool, field: str) -> FormScan:
    """Find ``field`` in an urlencoded or multipart body read so far."""
    kind, options = _content_type(content_type)
    if kind == "application/x-www-form-urlencoded":
        pairs = body.split(b"&")
        if not complete:
            pairs = pairs[:-1]  # the last pair may be cut in the middle
        for pair in pairs:
            name, _, value = pair.partition(b"=")
            if unquote_to_bytes(name.replace(b"+", b" ")) == field.encode():
                return FormScan(unquote_to_bytes(value.replace(b"+", b" ")), True)
        return FormScan(None, complete)
    if kind == "multipart/form-data":
        boundary = options.get("boundary", "")
        if not boundary or len(boundary) > 200 or not boundary.isascii():
            return FormScan(None, True)
        parts = body.split(b"--" + boundary.encode("ascii"))
        # parts[0] is the preamble; the last one may still be arriving unless we are complete.
        finished = parts[1:] if complete else parts[1:-1]
        for part in finished:
            head, sep, value = part.partition(b"\r\n\r\n")
            if not sep:
                continue
            for line in head.split(b"\r\n"):
                name, _, rest = line.partition(b":")
                if name.strip().lower() != b"content-disposition":
                    continue
                if re.search(rb';\s*name="?' + re.escape(field.encode()) + rb'"?(;|\s*$)', rest):
                    return FormScan(value.removesuffix(b"\r\n"), True)
        return FormScan(None, complete)
    return FormScan(None, True)
