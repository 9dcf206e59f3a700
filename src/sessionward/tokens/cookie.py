"""The refresh-token cookie for browser apps, written by the one cookie writer.

Why ``__Host-refresh`` with ``Path=/`` and not a cookie on a narrow path such as
``/api/token/refresh``: browsers honour the ``__Host-`` prefix only for cookies that are
Secure, carry no Domain and have ``Path=/``. The prefix is what stops a sibling subdomain or a
plain-HTTP page from planting its own refresh cookie for this host (cookie tossing: the victim
then refreshes into the attacker's session). A narrow ``Path`` is not a security boundary (any
page of the origin can reach that path), it only trims where the browser attaches the cookie,
so we keep the integrity guarantee and trim exposure otherwise:

* ``HttpOnly``: scripts, including injected ones, cannot read it;
* ``SameSite=Strict``: it is not attached to any cross-site request, so a cross-site form cannot
  drive a refresh;
* only the refresh endpoint ever reads it; every other handler ignores it.

``CookieConfig`` already refuses ``__Host-`` with any other path, so this cannot drift.
"""

from __future__ import annotations

import math

from ..core.cookies import CookieConfig, dump_cookie, expire_cookie, find_cookie
from .flows import TokenPair
from .refresh import is_well_formed

DEFAULT_REFRESH_COOKIE = CookieConfig(name="refresh", same_site="strict")


class RefreshCookie:
    """Read, set and clear the refresh-token cookie."""

    def __init__(self, config: CookieConfig = DEFAULT_REFRESH_COOKIE) -> None:
        if not config.http_only:
            raise ValueError("the refresh cookie must be HttpOnly")
        self.config = config

    @property
    def name(self) -> str:
        return self.config.wire_name

    def read(self, cookie_header: str | bytes | None) -> str | None:
        """The refresh token from a Cookie header; ``None`` when absent, doubled or malformed."""
        lookup = find_cookie(cookie_header, self.config.wire_name)
        if lookup.value is None or not is_well_formed(lookup.value):
            return None
        return lookup.value

    def set(self, pair: TokenPair, *, now: float) -> str:
        max_age = max(0, math.floor(pair.refresh_expires_at - now))
        return dump_cookie(self.config, pair.refresh_token, max_age=max_age)

    def clear(self) -> str:
        return expire_cookie(self.config)
