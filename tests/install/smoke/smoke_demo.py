"""[demo]: the demo app builds, renders its login page from the packaged templates and serves
its packaged stylesheet."""

from __future__ import annotations

import subprocess
import sys
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

# The console script is installed and answers --help without starting a server.
command = Path(sys.executable).with_name("sessionward-demo")
done = subprocess.run([str(command), "--help"], capture_output=True, text=True, check=False)
check(done.returncode == 0 and "--insecure-http" in done.stdout, f"sessionward-demo: {done}")
