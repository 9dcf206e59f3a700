"""What the smoke scripts share: drive an ASGI or WSGI app with the standard library only.

The scripts run in a fresh virtual environment holding the built wheel and one extra, so they
can import nothing but the standard library, sessionward and that extra's dependencies.
"""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Callable, Iterable
from typing import Any

ORIGIN = "https://app.test"
COOKIE = "__Host-session"


def cookie_from(headers: Iterable[tuple[str, str]], previous: str | None) -> str | None:
    """The session cookie the client holds after a response with ``headers``."""
    for name, value in headers:
        value = value.strip()
        if name.lower() == "set-cookie" and value.startswith(COOKIE + "="):
            token = value.split(";", 1)[0].split("=", 1)[1]
            return token or None
    return previous


def wsgi_call(
    app: Callable[..., Iterable[bytes]], method: str, path: str, cookie: str | None
) -> tuple[str, list[tuple[str, str]], bytes]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "app.test",
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "app.test",
        "HTTP_ORIGIN": ORIGIN,
        "HTTP_SEC_FETCH_SITE": "same-origin",
        "CONTENT_LENGTH": "0",
        "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if cookie:
        environ["HTTP_COOKIE"] = f"{COOKIE}={cookie}"
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started[:] = [status, headers]
        return lambda data: None

    body = b"".join(app(environ, start_response))
    return started[0], started[1], body


def asgi_call(
    app: Any, method: str, path: str, cookie: str | None
) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [
        (b"host", b"app.test"),
        (b"origin", ORIGIN.encode()),
        (b"sec-fetch-site", b"same-origin"),
    ]
    if cookie:
        headers.append((b"cookie", f"{COOKIE}={cookie}".encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("app.test", 443),
    }
    sent: list[dict[str, Any]] = []
    received = False

    async def run() -> None:
        done = asyncio.Event()

        async def receive() -> dict[str, Any]:
            nonlocal received
            if not received:
                received = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await done.wait()  # the client hangs up only once the response is complete
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                done.set()

        await app(scope, receive, send)

    asyncio.run(run())
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    pairs = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start["headers"]]
    return start["status"], pairs, body


def login_logout(call: Callable[[str, str, str | None], tuple[Any, Any, bytes]]) -> None:
    """GET / anonymous, POST /login, GET / as alice, POST /logout, GET / anonymous again."""
    cookie: str | None = None
    _, headers, body = call("GET", "/", cookie)
    check(b"anonymous" in body, f"expected an anonymous page, got {body!r}")
    _, headers, body = call("POST", "/login", cookie)
    cookie = cookie_from(headers, cookie)
    check(cookie is not None, f"login set no {COOKIE} cookie: {headers}")
    _, headers, body = call("GET", "/", cookie)
    check(b"alice" in body, f"the session cookie was not honoured: {body!r}")
    _, headers, body = call("POST", "/logout", cookie)
    old, cookie = cookie, cookie_from(headers, cookie)
    check(cookie is None, f"logout did not clear the cookie: {headers}")
    _, headers, body = call("GET", "/", old)
    check(b"anonymous" in body, f"the logged-out token still works: {body!r}")


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"SMOKE FAILED: {message}")


def missing_extra(module: str, extra: str) -> None:
    """Importing ``module`` must fail with an ImportError that names ``extra``."""
    import importlib
    import re

    try:
        importlib.import_module(module)
    except ImportError as exc:
        named = re.search(r"sessionward\[([a-z0-9,-]+)\]", str(exc))
        check(
            named is not None and extra in named.group(1).split(","),
            f"{module}: the ImportError does not name the {extra!r} extra: {exc}",
        )
    else:
        raise SystemExit(f"SMOKE FAILED: {module} imported without the {extra} extra")
