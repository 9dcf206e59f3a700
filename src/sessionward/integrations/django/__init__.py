"""Django integration: settings only.

settings.py::

    SESSION_ENGINE = "sessionward.integrations.django.engine"
    SESSIONWARD_STORE = "sqlite:///var/lib/myproject/sessions.db"
    SESSION_COOKIE_NAME = "__Host-session"
    MIDDLEWARE = [
        "django.middleware.security.SecurityMiddleware",
        "sessionward.integrations.django.SessionwardMiddleware",  # replaces SessionMiddleware
        ...
    ]
    INSTALLED_APPS = [..., "sessionward.integrations.django.sessions"]  # checks, pages

``request.session`` is then Django's session API over sessionward (``django.contrib.auth``,
messages, the admin and ``CSRF_USE_SESSIONS`` work unchanged) and ``request.sessionward`` the
sessionward session behind it. See docs/django.md.
"""

from __future__ import annotations

try:
    import django  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "sessionward.integrations.django needs Django: pip install 'sessionward[django]'"
    ) from exc

from . import auth as _auth  # noqa: F401  (connects the auth receivers)
from .conf import get_manager
from .middleware import SessionwardMiddleware

__all__ = ["SessionwardMiddleware", "get_manager"]
