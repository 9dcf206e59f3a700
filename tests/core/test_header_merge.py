"""The one header-merge rule every shell uses."""

from __future__ import annotations

from pathlib import Path

import sessionward
from sessionward.core.header_merge import merge_headers, raw_headers, text_headers


def test_session_headers_replace_cache_control_and_join_vary() -> None:
    app = [
        ("Content-Type", "text/html"),
        ("Cache-Control", "public, max-age=60"),
        ("Vary", "Accept"),
    ]
    ours = [("cache-control", "no-store"), ("vary", "Cookie, accept"), ("set-cookie", "s=1")]
    assert merge_headers(app, ours) == [
        ("Content-Type", "text/html"),
        ("cache-control", "no-store"),
        ("set-cookie", "s=1"),
        ("vary", "Accept, Cookie"),
    ]


def test_a_line_already_present_is_not_added_twice_but_the_apps_own_lines_stay() -> None:
    app = [("Link", "</a>; rel=preload"), ("Link", "</a>; rel=preload")]
    ours = [("link", "</a>; rel=preload"), ("set-cookie", "s=1"), ("set-cookie", "s=1")]
    assert merge_headers(app, ours) == [*app, ("set-cookie", "s=1")]


def test_defaults_are_added_only_where_the_app_set_nothing() -> None:
    app = [("Content-Security-Policy", "default-src 'none'")]
    ours = [("content-security-policy", "default-src 'self'"), ("x-frame-options", "DENY")]
    assert merge_headers(app, ours, app_wins=True) == [*app, ("x-frame-options", "DENY")]


def test_raw_asgi_headers_round_trip_as_latin_1() -> None:
    raw = [(b"x-name", "caf\u00e9".encode("latin-1"))]
    assert raw_headers(text_headers(raw)) == raw


def test_no_shell_keeps_a_merger_of_its_own() -> None:
    package = Path(sessionward.__file__).parent
    mergers = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if path.name != "header_merge.py"
        and any(
            line.lstrip().startswith(("def merge", "def _merge", "def _add_missing"))
            for line in path.read_text().splitlines()
        )
    ]
    assert mergers == []


def test_raw_asgi_headers_merge_by_the_same_rule_as_text() -> None:
    app = [
        (b"Content-Type", b"text/plain"),
        (b"Cache-Control", b"max-age=60"),
        (b"Vary", b"Accept"),
    ]
    ours = [(b"cache-control", b"no-store"), (b"vary", b"Cookie"), (b"set-cookie", b"a=b")]
    raw = merge_headers(app, ours)
    text = merge_headers(
        [(n.decode(), v.decode()) for n, v in app], [(n.decode(), v.decode()) for n, v in ours]
    )
    assert raw == [(n.encode(), v.encode()) for n, v in text]
    assert (b"vary", b"Accept, Cookie") in raw and (b"Cache-Control", b"max-age=60") not in raw
