"""Flask's ``SESSION_COOKIE_*`` settings, applied to sessionward's cookie within secure bounds.

Flask cannot tell a setting left at its default from one set to the same value, so a default
(``SESSION_COOKIE_SECURE=False``, ``SESSION_COOKIE_SAMESITE=None``...) means "not set" and the
manager's :class:`~sessionward.CookieConfig` decides. Anything else is either applied or refused
with a :class:`~sessionward.ConfigurationError` that names the setting: never ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ...core.cookies import CookieConfig
from ...errors import ConfigurationError

#: The settings read, with Flask's defaults.
DEFAULTS: dict[str, Any] = {
    "SESSION_COOKIE_NAME": "session",
    "SESSION_COOKIE_DOMAIN": None,
    "SESSION_COOKIE_PATH": None,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_SAMESITE": None,
    "SESSION_COOKIE_PARTITIONED": False,
}


_NAMES, _DEFAULTS = tuple(DEFAULTS), tuple(DEFAULTS.values())


def settings_of(config: Mapping[str, Any]) -> tuple[Any, ...]:
    """The current values, to notice a change cheaply (read twice a request)."""
    return tuple(map(config.get, _NAMES, _DEFAULTS))


def _refuse(setting: str, value: Any, why: str) -> ConfigurationError:
    return ConfigurationError(f"{setting}={value!r} cannot be applied: {why}")


def cookie_config(base: CookieConfig, config: Mapping[str, Any]) -> CookieConfig:
    """``base`` with the app's non-default ``SESSION_COOKIE_*`` settings applied."""
    changes: dict[str, Any] = {}
    name = config.get("SESSION_COOKIE_NAME", "session")
    if name != "session" and name != base.wire_name:
        if not isinstance(name, str) or name.lower().startswith("__secure-"):
            raise _refuse("SESSION_COOKIE_NAME", name, "use a plain cookie name")
        if name.lower().startswith("__host-"):
            changes.update(name=name[len("__host-") :], host_prefix=True)
        else:
            changes["name"] = name
    domain = config.get("SESSION_COOKIE_DOMAIN")
    if domain:
        if base.host_prefix:
            raise _refuse(
                "SESSION_COOKIE_DOMAIN",
                domain,
                "the __Host- session cookie has no Domain, so a sibling subdomain cannot "
                "overwrite it; remove the setting, or give the manager "
                "CookieConfig(host_prefix=False, domain=...) and accept that risk",
            )
        changes["domain"] = str(domain).lstrip(".")
    path = config.get("SESSION_COOKIE_PATH")
    if path and path != base.path:
        if base.host_prefix:
            raise _refuse(
                "SESSION_COOKIE_PATH",
                path,
                "the __Host- session cookie must have Path=/; remove the setting, or give the "
                "manager CookieConfig(host_prefix=False, path=...)",
            )
        changes["path"] = path
    if config.get("SESSION_COOKIE_HTTPONLY", True) is not True:
        raise _refuse(
            "SESSION_COOKIE_HTTPONLY",
            config.get("SESSION_COOKIE_HTTPONLY"),
            "scripts (and any XSS) could read the session token; remove the setting",
        )
    if config.get("SESSION_COOKIE_SECURE", False) is True:
        changes["secure"] = True
    same_site = config.get("SESSION_COOKIE_SAMESITE")
    if same_site is not None:
        if not isinstance(same_site, str) or same_site.lower() not in ("lax", "strict", "none"):
            raise _refuse("SESSION_COOKIE_SAMESITE", same_site, "use 'Lax', 'Strict' or 'None'")
        changes["same_site"] = same_site.lower()
    if config.get("SESSION_COOKIE_PARTITIONED", False) is True:
        changes["partitioned"] = True
    if not changes:
        return base
    try:
        return replace(base, **changes)
    except ConfigurationError as exc:
        raise ConfigurationError(f"the app's SESSION_COOKIE_* settings: {exc}") from exc
