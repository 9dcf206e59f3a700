"""``python -m sessionward.demo``: start the demo over HTTPS with a SQLite store."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from sessionward import ConfigurationError
from sessionward.integrations.headers import HTTPSRedirectMiddleware

from . import config as demo_config
from .app import create_app
from .tls import ensure_certificate
from .users import UserDirectory, seed_users

BANNER = "=" * 72
#: uvicorn must not rewrite the client address or scheme from forwarded headers itself (its
#: default trusts them from loopback): only sessionward's TrustedProxies (--trusted-proxy)
#: decides, so a local proxy cannot turn the redirect listener into a plain-HTTP app.
SERVER_OPTIONS = {"log_level": "info", "proxy_headers": False}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        config = demo_config.load(argv)
    except ConfigurationError as exc:
        print(f"sessionward-demo: {exc}", file=sys.stderr)
        return 2
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s")
    config.state_dir.mkdir(parents=True, exist_ok=True)
    accounts = seed_users(os.environ.get("SESSIONWARD_DEMO_PASSWORD"))
    app = create_app(config, UserDirectory(accounts))
    print(BANNER)
    print(f"sessionward demo on {config.scheme}://{config.host}:{config.port}/")
    print(
        f"sessions stored in {config.store_path} (SQLite); idle timeout "
        f"{config.idle_timeout}s, absolute timeout {config.absolute_timeout}s"
    )
    print("demo accounts (passwords change at every start):")
    for name, (_display, password) in accounts.items():
        print(f"    {name:8} {password}")
    print(
        "alice administers users (/admin/users); audit log in the same SQLite file "
        f"(sessionward --store {config.store_path} audit tail); metrics at /metrics (loopback)"
    )
    print(
        f"token API under /api (see docs/tokens.md); JWT signing key (development key, made on "
        f"first run): {config.state_dir / 'jwt-signing-key.pem'}"
    )
    ssl: dict[str, str] = {}
    if config.insecure_http:
        print(
            "!! INSECURE DEVELOPMENT MODE: plain HTTP, cookies WITHOUT Secure and WITHOUT the "
            "__Host- prefix. Anyone on the path can read and steal sessions. Never deploy this."
        )
    else:
        cert, key = ensure_certificate(config.state_dir)
        ssl = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
        print(f"TLS certificate (self-signed, accept it in your browser): {cert}")
    if config.http_redirect_port is not None:
        print(f"plain HTTP on port {config.http_redirect_port} redirects to HTTPS")
    print(BANNER, flush=True)
    if config.trusted_proxies:
        print(f"forwarded headers believed only from {config.proxies()!r}")
    if config.http_redirect_port is None:
        uvicorn.run(app, host=config.host, port=config.port, **SERVER_OPTIONS, **ssl)  # type: ignore[arg-type]
        return 0
    redirect = HTTPSRedirectMiddleware(
        app,
        trusted_proxies=config.proxies(),
        https_port=config.port,
        allowed_hosts=config.allowed_hosts or None,
    )
    servers = [
        uvicorn.Server(
            uvicorn.Config(app, host=config.host, port=config.port, **SERVER_OPTIONS, **ssl)  # type: ignore[arg-type]
        ),
        uvicorn.Server(
            uvicorn.Config(
                redirect,
                host=config.host,
                port=config.http_redirect_port,
                lifespan="off",  # the HTTPS server runs the app's start-up and shut-down
                **SERVER_OPTIONS,  # type: ignore[arg-type]
            )
        ),
    ]

    async def serve_both() -> None:
        await asyncio.gather(*(server.serve() for server in servers))

    asyncio.run(serve_both())
    return 0


if __name__ == "__main__":
    sys.exit(main())
