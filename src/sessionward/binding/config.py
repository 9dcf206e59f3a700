"""Settings of device-bound sessions, validated when the app starts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from ..core.cookies import CookieConfig
from ..core.keys import SecretKeyRing
from ..core.policy import Seconds, seconds
from ..errors import ConfigurationError

Offer = Literal["login", "always", "never"]
_PATH = re.compile(r"/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*")
SUPPORTED = ("ES256", "RS256")


@dataclass(frozen=True, slots=True)
class BindingConfig:
    """How sessionward offers, verifies and enforces DBSC bindings.

    ``keys`` signs challenges and bound cookies (give every instance the same ring; it can be
    the one your CSRF settings use: a per-purpose key is derived from it). The bound cookie
    (``__Host-bound`` by default: Secure, HttpOnly, Path=/) lives ``cookie_ttl`` seconds, 10
    minutes by default: that is how long a copied cookie pair stays useful without the key.
    ``offer`` says when to send ``Secure-Session-Registration``: on the response to a login
    (default), on every authenticated response of an unbound session, or never (the app
    offers itself). Unbound sessions are served normally, so browsers without DBSC keep
    working; ``require_paths`` lists path prefixes that an authenticated session may use only
    when it is bound. ``exclude_paths`` leaves path prefixes (static files) out of the DBSC
    scope, so the browser never pauses them for a refresh.
    """

    keys: SecretKeyRing
    registration_path: str = "/_sessionward/dbsc/register"
    refresh_path: str = "/_sessionward/dbsc/refresh"
    cookie: CookieConfig = field(default_factory=lambda: CookieConfig(name="bound"))
    cookie_ttl: float = 600
    challenge_ttl: float = 300
    algorithms: tuple[str, ...] = SUPPORTED
    offer: Offer = "login"
    require_paths: tuple[str, ...] = ()
    exclude_paths: tuple[str, ...] = ()

    def __init__(
        self,
        *,
        keys: SecretKeyRing,
        registration_path: str = "/_sessionward/dbsc/register",
        refresh_path: str = "/_sessionward/dbsc/refresh",
        cookie: CookieConfig | None = None,
        cookie_ttl: Seconds = 600,
        challenge_ttl: Seconds = 300,
        algorithms: tuple[str, ...] = SUPPORTED,
        offer: Offer = "login",
        require_paths: tuple[str, ...] = (),
        exclude_paths: tuple[str, ...] = (),
    ) -> None:
        if not isinstance(keys, SecretKeyRing):
            raise ConfigurationError(
                "BindingConfig(keys=...) needs a SecretKeyRing shared by every instance, e.g. "
                "SecretKeyRing([os.environ['SESSIONWARD_SECRET']])"
            )
        for name, path in (
            ("registration_path", registration_path),
            ("refresh_path", refresh_path),
        ):
            if not isinstance(path, str) or not _PATH.fullmatch(path) or "?" in path:
                raise ConfigurationError(
                    f"{name} must be an absolute path such as '/dbsc/{name[:-5]}'"
                )
        if registration_path == refresh_path:
            raise ConfigurationError("registration_path and refresh_path must differ")
        chosen = tuple(algorithms)
        if not chosen or any(a not in SUPPORTED for a in chosen):
            raise ConfigurationError(
                f"algorithms must be a non-empty subset of {SUPPORTED}; 'none' and HMAC "
                f"algorithms cannot prove possession of a device key"
            )
        cookie = cookie if cookie is not None else CookieConfig(name="bound")
        if not isinstance(cookie, CookieConfig) or not cookie.http_only:
            raise ConfigurationError("the bound cookie must be a CookieConfig with http_only=True")
        ttl = seconds(cookie_ttl, "cookie_ttl")
        if not 30 <= ttl <= 24 * 3600:
            raise ConfigurationError(
                "cookie_ttl must be between 30 seconds and a day (default 600)"
            )
        challenge = seconds(challenge_ttl, "challenge_ttl")
        if not 10 <= challenge <= 3600:
            raise ConfigurationError("challenge_ttl must be between 10 seconds and an hour")
        if offer not in ("login", "always", "never"):
            raise ConfigurationError("offer must be 'login', 'always' or 'never'")
        for prefix in (*require_paths, *exclude_paths):
            if not isinstance(prefix, str) or not _PATH.fullmatch(prefix):
                raise ConfigurationError(f"path prefix {prefix!r} must start with '/'")
        set_ = object.__setattr__
        set_(self, "keys", keys)
        set_(self, "registration_path", registration_path)
        set_(self, "refresh_path", refresh_path)
        set_(self, "cookie", cookie)
        set_(self, "cookie_ttl", ttl)
        set_(self, "challenge_ttl", challenge)
        set_(self, "algorithms", chosen)
        set_(self, "offer", offer)
        set_(self, "require_paths", tuple(require_paths))
        set_(self, "exclude_paths", tuple(exclude_paths))

    def requires_binding(self, path: str) -> bool:
        return any(_under(path, prefix) for prefix in self.require_paths)


def _under(path: str, prefix: str) -> bool:
    if prefix.endswith("/"):
        return path.startswith(prefix)
    return path == prefix or path.startswith(prefix + "/")
