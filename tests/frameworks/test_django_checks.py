"""System checks: each misconfiguration is reported, with the fix, by ``manage.py check``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core import checks
from django.test import override_settings

from sessionward import MemoryStore, SessionManager, StoreUnavailable
from sessionward.integrations.django import conf

from . import django_settings, django_site  # noqa: F401  (django_settings configures Django)

OURS = "sessionward.integrations.django.SessionwardMiddleware"
DJANGOS = "django.contrib.sessions.middleware.SessionMiddleware"


@pytest.fixture(autouse=True)
def manager() -> Iterator[SessionManager]:
    django_site.CURRENT = SessionManager(MemoryStore(), sinks=[])
    conf.reset()
    yield django_site.CURRENT
    conf.reset()


def ids(deploy: bool = False) -> set[str]:
    found: Any = checks.run_checks(tags=[checks.Tags.security], include_deployment_checks=deploy)
    return {m.id for m in found if m.id and m.id.startswith("sessionward.")}


def test_the_example_project_passes() -> None:
    assert ids(deploy=True) == set()


def test_store_unset_or_unreachable() -> None:
    with override_settings(SESSIONWARD_MANAGER=None, SESSIONWARD_STORE=None):
        assert "sessionward.E001" in ids()

    class Down(MemoryStore):
        def get(self, key: str) -> Any:
            raise StoreUnavailable("connection refused")

    django_site.CURRENT = SessionManager(Down(), sinks=[])
    conf.reset()
    assert "sessionward.E002" in ids()


def test_engine_still_django_and_both_middlewares() -> None:
    with override_settings(SESSION_ENGINE="django.contrib.sessions.backends.db"):
        assert "sessionward.W001" in ids()
    with override_settings(MIDDLEWARE=[OURS, DJANGOS]):
        assert "sessionward.E003" in ids()


def test_cookie_name_and_lifetime_conflicts() -> None:
    with override_settings(SESSION_COOKIE_NAME="sessionid"):
        assert "sessionward.W002" in ids()
    with override_settings(SESSION_COOKIE_AGE=14 * 24 * 3600):
        assert "sessionward.W003" in ids()
    with override_settings(SESSION_EXPIRE_AT_BROWSER_CLOSE=True):
        assert "sessionward.W004" in ids()


def test_djangos_middleware_with_weak_cookie_settings() -> None:
    weak = {
        "MIDDLEWARE": [DJANGOS],
        "SESSION_COOKIE_SECURE": False,
        "SESSION_COOKIE_HTTPONLY": False,
        "SESSION_COOKIE_SAMESITE": None,
        "SESSION_COOKIE_NAME": "sessionid",
    }
    with override_settings(**weak):
        assert {"sessionward.W010", "sessionward.W011", "sessionward.W012"} <= ids()
        assert {"sessionward.W013", "sessionward.W014"} <= ids()
    strong = {**weak, "SESSION_COOKIE_SECURE": True, "SESSION_COOKIE_HTTPONLY": True}
    strong["SESSION_SAVE_EVERY_REQUEST"] = True
    strong |= {"SESSION_COOKIE_SAMESITE": "Lax", "SESSION_COOKIE_NAME": "__Host-session"}
    with override_settings(**strong):
        assert not {f"sessionward.W01{n}" for n in range(5)} & ids()


def test_development_cookie_and_memory_store_with_debug_off() -> None:
    from sessionward import CookieConfig

    dev = CookieConfig(name="session", secure=False, host_prefix=False)
    django_site.CURRENT = SessionManager(MemoryStore(), sinks=[], cookie=dev)
    conf.reset()
    with override_settings(SESSION_COOKIE_NAME="session"):
        assert "sessionward.W020" in ids(deploy=True)
    with override_settings(SESSIONWARD_MANAGER=None, SESSIONWARD_STORE="memory://"):
        assert "sessionward.W021" in ids(deploy=True)
