"""[demo]: the demo app builds, renders its login page from the packaged templates and serves
its packaged stylesheet."""

from __future__ import annotations

import tempfile
from pathlib import Path

from _drive import asgi_call, check

from sessionward.demo import DemoConfig, create_app
from sessionward.demo.users import UserDirectory, seed_users

tmp = Path(tempfile.mkdtemp())
config = DemoConfig(store=tmp / "demo.sqlite3", state_dir=tmp)
app = create_app(config, UserDirectory(seed_users("correct horse battery staple")))
status, _, body = asgi_call(app, "GET", "/login", None)
check(status == 200 and b"<form" in body, f"login page: {status} {body[:200]!r}")
status, _, body = asgi_call(app, "GET", "/static/app.css", None)
check(status == 200 and len(body) > 0, f"stylesheet: {status}")
