"""System checks (``manage.py check``; tags ``security`` and ``deploy``).

Registered by the sessions app (``sessionward.integrations.django.sessions``). Each message says
the fix; ids are ``sessionward.E0xx`` (errors) and ``sessionward.W0xx`` (warnings).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from ...errors import ConfigurationError, StoreUnavailable
from . import conf

ENGINE = "sessionward.integrations.django.engine"
OURS = "sessionward.integrations.django.SessionwardMiddleware"
DJANGOS = "django.contrib.sessions.middleware.SessionMiddleware"
_PROBE = "A" * 43  # a well-formed token no session has: a read that finds nothing


def register() -> None:
    checks.register(check_configuration, checks.Tags.security)
    checks.register(check_deployment, checks.Tags.security, deploy=True)


def _middleware() -> list[str]:
    return list(getattr(settings, "MIDDLEWARE", None) or [])


def check_configuration(app_configs: Any = None, **_: Any) -> list[checks.CheckMessage]:
    found: list[checks.CheckMessage] = []
    middleware = _middleware()
    if settings.SESSION_ENGINE != ENGINE:
        found.append(
            checks.Warning(
                f"SESSION_ENGINE is {settings.SESSION_ENGINE!r}: django.contrib.sessions, not "
                "sessionward, keeps request.session.",
                hint=f'Set SESSION_ENGINE = "{ENGINE}".',
                id="sessionward.W001",
            )
        )
    if OURS in middleware and DJANGOS in middleware:
        found.append(
            checks.Error(
                "Both Django's SessionMiddleware and SessionwardMiddleware are in MIDDLEWARE.",
                hint=f"Keep only {OURS!r} (it is a SessionMiddleware).",
                id="sessionward.E003",
            )
        )
    try:
        manager = conf.get_manager()
    except (ConfigurationError, ImportError) as exc:
        return [
            *found,
            checks.Error(f"sessionward cannot start: {exc}", id="sessionward.E001"),
        ]
    try:
        manager.exists(_PROBE)
    except StoreUnavailable as exc:
        found.append(
            checks.Error(
                f"the session store cannot be reached: {exc}",
                hint="Check SESSIONWARD_STORE and that the server is running.",
                id="sessionward.E002",
            )
        )
    wire = manager.cookie.wire_name
    if wire != settings.SESSION_COOKIE_NAME:
        found.append(
            checks.Warning(
                f"SESSION_COOKIE_NAME is {settings.SESSION_COOKIE_NAME!r} but sessionward's "
                f"cookie is {wire!r}: the test client's login() and code reading "
                "request.COOKIES[SESSION_COOKIE_NAME] will not find the session.",
                hint=f'Set SESSION_COOKIE_NAME = "{wire}".',
                id="sessionward.W002",
            )
        )
    age = getattr(settings, "SESSION_COOKIE_AGE", 0)
    # Only a value the project chose: Django's two-week default is capped silently.
    chosen = settings.is_overridden("SESSION_COOKIE_AGE")
    if chosen and isinstance(age, int | float) and age > manager.policy.absolute_timeout:
        found.append(
            checks.Warning(
                f"SESSION_COOKIE_AGE ({age:g}s) is above sessionward's absolute timeout "
                f"({manager.policy.absolute_timeout:g}s); sessions end at the timeout anyway.",
                hint="Lower SESSION_COOKIE_AGE, or raise SESSIONWARD_POLICY's absolute_timeout.",
                id="sessionward.W003",
            )
        )
    if OURS in middleware and getattr(settings, "SESSION_EXPIRE_AT_BROWSER_CLOSE", False):
        found.append(
            checks.Warning(
                "SESSION_EXPIRE_AT_BROWSER_CLOSE has no effect with SessionwardMiddleware: its "
                "cookie's Max-Age follows the idle and absolute timeouts.",
                hint="Remove the setting; shorten SESSIONWARD_POLICY's idle_timeout instead.",
                id="sessionward.W004",
            )
        )
    if DJANGOS in middleware:
        found.extend(_django_cookie_warnings())
    return found


def _django_cookie_warnings() -> list[checks.CheckMessage]:
    """With Django's own middleware, its SESSION_COOKIE_* settings write the cookie."""
    found: list[checks.CheckMessage] = []
    problems = [
        (not settings.SESSION_COOKIE_SECURE, "SESSION_COOKIE_SECURE = True", "W010"),
        (not settings.SESSION_COOKIE_HTTPONLY, "SESSION_COOKIE_HTTPONLY = True", "W011"),
        (
            str(settings.SESSION_COOKIE_SAMESITE).lower() not in ("lax", "strict"),
            'SESSION_COOKIE_SAMESITE = "Lax"',
            "W012",
        ),
        (
            not str(settings.SESSION_COOKIE_NAME).startswith("__Host-")
            or settings.SESSION_COOKIE_DOMAIN is not None
            or settings.SESSION_COOKIE_PATH != "/",
            'SESSION_COOKIE_NAME = "__Host-session" with no SESSION_COOKIE_DOMAIN and '
            'SESSION_COOKIE_PATH = "/"',
            "W013",
        ),
    ]
    if not settings.SESSION_SAVE_EVERY_REQUEST:
        found.append(
            checks.Warning(
                "With Django's SessionMiddleware a session is saved only when changed, so "
                "sessionward's idle timeout runs from the last change, not the last visit.",
                hint="Set SESSION_SAVE_EVERY_REQUEST = True (last-seen writes stay throttled), "
                f"or use {OURS!r}.",
                id="sessionward.W014",
            )
        )
    for bad, fix, code in problems:
        if bad:
            found.append(
                checks.Warning(
                    "Django's SessionMiddleware writes the session cookie, below sessionward's "
                    f"defaults: set {fix}.",
                    hint=f"Or use {OURS!r}, which writes sessionward's secure cookie.",
                    id=f"sessionward.{code}",
                )
            )
    return found


def check_deployment(app_configs: Any = None, **_: Any) -> list[checks.CheckMessage]:
    if settings.DEBUG:
        return []
    try:
        manager = conf.get_manager()
    except (ConfigurationError, ImportError):
        return []  # reported by check_configuration
    found: list[checks.CheckMessage] = []
    cookie = manager.cookie
    if OURS in _middleware() and (not cookie.secure or not cookie.host_prefix):
        found.append(
            checks.Warning(
                "sessionward's cookie is a development cookie (no Secure flag or no __Host- "
                "prefix) while DEBUG is False.",
                hint="Remove the secure/host_prefix overrides from SESSIONWARD_COOKIE.",
                id="sessionward.W020",
            )
        )
    if conf.backend_name() == "memory":
        found.append(
            checks.Warning(
                "SESSIONWARD_STORE is memory://: sessions vanish on restart and are not shared "
                "between processes.",
                hint="Use sqlite:///..., redis://... or postgresql://... in production.",
                id="sessionward.W021",
            )
        )
    return found
