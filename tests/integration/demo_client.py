"""Drive the demo like a browser would: fetch the page holding a form, submit it with its
hidden fields and same-origin request headers."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from pathlib import Path

import httpx

from sessionward import SQLiteStore
from sessionward.demo import DemoConfig, create_app
from sessionward.demo.users import UserDirectory, seed_users
from sessionward.monitoring import MemorySink
from sessionward.testing import FakeClock

PASSWORD = "correct horse battery staple"
ORIGIN = "https://demo.test"
COOKIE = "__Host-session"
_FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.S)
_HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"')


class Demo:
    """A demo app on a SQLite file, with a fake clock and a sink to inspect events."""

    def __init__(self, tmp: Path, *, idle: int = 900, absolute: int = 28800) -> None:
        self.clock = FakeClock()
        self.sink = MemorySink()
        self.config = DemoConfig(
            store=tmp / "demo.sqlite3", state_dir=tmp, idle_timeout=idle, absolute_timeout=absolute
        )
        self.users = UserDirectory(seed_users(PASSWORD))
        self.app = create_app(self.config, self.users, clock=self.clock, sinks=[self.sink])
        self.store = SQLiteStore(self.config.store_path)

    def client(self, user_agent: str = "DemoTest/1.0") -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app, client=("198.51.100.23", 50000)),
            base_url=ORIGIN,
            headers={"user-agent": user_agent},
        )


def hidden_fields(page: str, action: str) -> dict[str, str]:
    for form_action, body in _FORM.findall(page):
        if html.unescape(form_action) == action:
            return {html.unescape(n): html.unescape(v) for n, v in _HIDDEN.findall(body)}
    raise AssertionError(f"no form posting to {action} on the page")


async def submit(
    client: httpx.AsyncClient, page_path: str, action: str, data: Mapping[str, str] | None = None
) -> httpx.Response:
    page = await client.get(page_path)
    fields = {**hidden_fields(page.text, action), **(data or {})}
    return await client.post(
        action,
        data=fields,
        headers={"origin": ORIGIN, "sec-fetch-site": "same-origin", "referer": ORIGIN + page_path},
    )


async def login(client: httpx.AsyncClient, username: str = "alice") -> httpx.Response:
    return await submit(client, "/login", "/login", {"username": username, "password": PASSWORD})


def session_cookie(client: httpx.AsyncClient) -> str | None:
    return client.cookies.get(COOKIE)
