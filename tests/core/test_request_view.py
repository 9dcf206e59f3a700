"""The one request view every shell builds once and every defence reads."""

from __future__ import annotations

from typing import Any

import pytest

from sessionward.core import request as request_view
from sessionward.core.request import from_asgi, from_wsgi, view_of_environ, view_of_scope


def scope(**extra: Any) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "post",
        "path": "/form",
        "scheme": "https",
        "client": ("203.0.113.9", 5000),
        "headers": [
            (b"cookie", b"a=1"),
            (b"origin", b"https://app.test"),
            (b"cookie", b"b=\xff"),
            (b"x-forwarded-proto", b"http"),
            (b"x-forwarded-proto", b"https"),
            (b"x-unread", b"ignored"),
        ],
        **extra,
    }


def test_asgi_view_joins_cookie_lines_keeps_every_line_and_only_what_we_read() -> None:
    view = from_asgi(scope())
    assert view.method == "POST" and view.path == "/form" and view.secure
    assert view.peer == "203.0.113.9"
    assert view.cookie == b"a=1; b=\xff"  # raw: the cookie parser judges non-UTF-8 itself
    assert view.origin == "https://app.test"
    assert view.lines("x-forwarded-proto") == ("http", "https")
    assert view.header("x-unread") is None


def test_wsgi_view_reads_the_environ_and_decodes_the_path_like_asgi() -> None:
    environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "/app",
        "PATH_INFO": "/caf\u00c3\u00a9",
        "wsgi.url_scheme": "http",
        "REMOTE_ADDR": "198.51.100.2",
        "HTTP_COOKIE": "a=1",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "HTTP_SEC_FETCH_SITE": "same-origin",
    }
    view = from_wsgi(environ)
    assert view.path == "/app/caf\u00e9" and not view.secure
    assert view.cookie == "a=1" and view.sec_fetch_site == "same-origin"
    assert view.content_type == "application/x-www-form-urlencoded"


def test_built_once_per_request_and_rebuilt_when_a_proxy_fix_changes_the_scheme(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[str] = []
    real = request_view.from_asgi

    def counting(s: Any) -> Any:
        built.append(s["scheme"])
        return real(s)

    monkeypatch.setattr(request_view, "from_asgi", counting)
    s = scope(scheme="http")
    assert view_of_scope(s) is view_of_scope(s)
    behind_proxy = dict(s, scheme="https")  # what the HTTPS redirect hands on
    assert view_of_scope(behind_proxy).secure
    assert built == ["http", "https"]

    environ: dict[str, Any] = {"wsgi.url_scheme": "http", "HTTP_HOST": "app.test"}
    first = view_of_environ(environ)
    assert view_of_environ(environ) is first
    environ["wsgi.url_scheme"] = "https"
    assert view_of_environ(environ).secure


def test_no_shell_reads_request_headers_itself() -> None:
    from pathlib import Path

    import sessionward

    package = Path(sessionward.__file__).parent
    raw = ('scope.get("headers"', 'scope["headers"]', 'environ.get("HTTP_', "request.headers.get(")
    readers = [
        str(path.relative_to(package))
        for folder in ("integrations", "binding", "core")
        for path in (package / folder).rglob("*.py")
        if path.name != "request.py" and any(r in path.read_text() for r in raw)
    ]
    assert readers == []
