"""Demo settings from command-line options and ``SESSIONWARD_DEMO_*`` environment variables.

Bad values stop the demo at start-up with a message naming the option and the fix.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sessionward import ConfigurationError, SessionPolicy, TrustedProxies
from sessionward.core.transport import check_allowed_hosts

ENV_PREFIX = "SESSIONWARD_DEMO_"


@dataclass(frozen=True, slots=True)
class DemoConfig:
    host: str = "127.0.0.1"
    port: int = 8443
    state_dir: Path = Path(".sessionward-demo")
    store: Path | None = None
    idle_timeout: int = 15 * 60
    absolute_timeout: int = 8 * 60 * 60
    insecure_http: bool = False
    http_redirect_port: int | None = None
    #: Reverse proxies whose forwarded headers are believed (by sessionward, never uvicorn).
    trusted_proxies: tuple[str, ...] = ()
    #: "x-forwarded-for" (with X-Forwarded-Proto) or "forwarded" (RFC 7239 for= and proto=).
    proxy_header: str = "x-forwarded-for"
    #: Host names the plain-HTTP redirect may point to; empty: the request's Host (validated).
    allowed_hosts: tuple[str, ...] = ()

    def proxies(self) -> TrustedProxies:
        if self.proxy_header == "forwarded":
            return TrustedProxies(
                self.trusted_proxies, header="forwarded", proto_header="forwarded"
            )
        return TrustedProxies(self.trusted_proxies)

    @property
    def store_path(self) -> Path:
        return self.store if self.store is not None else self.state_dir / "sessions.sqlite3"

    @property
    def scheme(self) -> str:
        return "http" if self.insecure_http else "https"

    def policy(self) -> SessionPolicy:
        return SessionPolicy(
            idle_timeout=self.idle_timeout,
            absolute_timeout=self.absolute_timeout,
            touch_interval=min(60, self.idle_timeout // 10),
        )


def _positive_int(text: str, name: str, *, upper: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, not {text!r}") from None
    if not 1 <= value <= upper:
        raise ConfigurationError(f"{name} must be between 1 and {upper}, not {value}")
    return value


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="sessionward-demo",
        description="Run the sessionward demo: login, logout and active sessions over HTTPS. "
        f"Every option can also be set as an environment variable {ENV_PREFIX}<OPTION>, "
        f"e.g. {ENV_PREFIX}IDLE_TIMEOUT=300.",
    )
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", help="port to listen on (default 8443)")
    p.add_argument(
        "--state-dir",
        help="folder for the certificate and the SQLite store (default ./.sessionward-demo)",
    )
    p.add_argument("--store", help="SQLite file for sessions (default STATE_DIR/sessions.sqlite3)")
    p.add_argument(
        "--idle-timeout", help="seconds of inactivity before a session ends (default 900)"
    )
    p.add_argument(
        "--absolute-timeout",
        help="seconds after login when a session ends however active (default 28800)",
    )
    p.add_argument(
        "--insecure-http",
        action="store_true",
        default=None,
        help="DEVELOPMENT ONLY: serve plain HTTP on a loopback address, with "
        "cookies that lack Secure and the __Host- prefix",
    )
    p.add_argument(
        "--http-redirect-port",
        help="also listen for plain HTTP on this port, answering every request with a "
        "redirect to the HTTPS port (default: no plain-HTTP listener)",
    )
    p.add_argument(
        "--trusted-proxy",
        action="append",
        help="address or network of a reverse proxy whose forwarded headers are believed; "
        "repeatable; environment: comma-separated (default: none, forwarded headers ignored)",
    )
    p.add_argument(
        "--proxy-header",
        choices=["x-forwarded-for", "forwarded"],
        help="the header your proxy maintains: x-forwarded-for (with X-Forwarded-Proto, the "
        "default) or forwarded (RFC 7239)",
    )
    p.add_argument(
        "--allowed-host",
        action="append",
        help="host name the plain-HTTP redirect may send visitors to; repeatable; any other "
        "Host gets a 400 (default: the request's Host)",
    )
    return p


def _listed(value: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (value or "").split(",") if item.strip())


def load(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> DemoConfig:
    """Options beat environment variables, which beat defaults."""
    env = os.environ if env is None else env
    args = parser().parse_args(argv)

    def pick(name: str) -> str | None:
        value = getattr(args, name.lower())
        if value is not None:
            return ",".join(value) if isinstance(value, list) else str(value)
        return env.get(ENV_PREFIX + name)

    def pick_list(option: str, variable: str) -> tuple[str, ...]:
        value = getattr(args, option)
        return tuple(value) if value else _listed(env.get(ENV_PREFIX + variable))

    defaults = DemoConfig()
    host = pick("HOST") or defaults.host
    port = _positive_int(pick("PORT") or str(defaults.port), "--port", upper=65535)
    idle = _positive_int(
        pick("IDLE_TIMEOUT") or str(defaults.idle_timeout), "--idle-timeout", upper=7 * 24 * 3600
    )
    absolute = _positive_int(
        pick("ABSOLUTE_TIMEOUT") or str(defaults.absolute_timeout),
        "--absolute-timeout",
        upper=30 * 24 * 3600,
    )
    insecure_text = (pick("INSECURE_HTTP") or "").lower()
    if insecure_text not in ("", "true", "1", "yes", "0", "false", "no"):
        raise ConfigurationError(f"{ENV_PREFIX}INSECURE_HTTP must be 1 or 0, not {insecure_text!r}")
    insecure = insecure_text in ("true", "1", "yes")
    if insecure and not _is_loopback(host):
        raise ConfigurationError(
            f"--insecure-http serves cookies in clear text; it is allowed only on a loopback "
            f"address (127.0.0.1, ::1, localhost), not {host!r}. Drop --insecure-http to use TLS."
        )
    redirect_text = pick("HTTP_REDIRECT_PORT")
    redirect_port = (
        None
        if not redirect_text
        else _positive_int(redirect_text, "--http-redirect-port", upper=65535)
    )
    if redirect_port is not None and (insecure or redirect_port == port):
        raise ConfigurationError(
            "--http-redirect-port needs HTTPS on a different --port; drop --insecure-http or "
            "choose another port for the redirect"
        )
    state_dir = Path(pick("STATE_DIR") or defaults.state_dir)
    store_text = pick("STORE")
    config = DemoConfig(
        host=host,
        port=port,
        state_dir=state_dir,
        store=Path(store_text) if store_text else None,
        idle_timeout=idle,
        absolute_timeout=absolute,
        insecure_http=insecure,
        http_redirect_port=redirect_port,
        trusted_proxies=pick_list("trusted_proxy", "TRUSTED_PROXIES"),
        proxy_header=pick("PROXY_HEADER") or defaults.proxy_header,
        allowed_hosts=pick_list("allowed_host", "ALLOWED_HOSTS"),
    )
    config.policy()  # validates the pair of timeouts (absolute >= idle)
    if config.proxy_header not in ("x-forwarded-for", "forwarded"):
        raise ConfigurationError(
            f"{ENV_PREFIX}PROXY_HEADER must be x-forwarded-for or forwarded, "
            f"not {config.proxy_header!r}"
        )
    config.proxies()  # validates the addresses
    check_allowed_hosts(config.allowed_hosts or None)
    return config
