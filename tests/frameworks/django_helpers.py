"""The example project under test: a fresh manager (FakeClock, MemorySink) and user "alice"."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client, override_settings

from sessionward import MemoryStore, SessionManager, SessionPolicy
from sessionward.integrations.django import conf
from sessionward.monitoring import MemorySink
from sessionward.testing import FakeClock

from . import django_settings, django_site  # noqa: F401  (django_settings configures Django)

COOKIE = "__Host-session"
PASSWORD = "correct horse battery staple"


@dataclass
class Site:
    manager: SessionManager
    clock: FakeClock
    sink: MemorySink
    user: Any

    def sessions(self, user: Any = None) -> list[Any]:
        return self.manager.sessions_of(str((user or self.user).pk))

    def signed_in(self, client: Client) -> bool:
        who = re.search(r'<p id="who">([^<]*)</p>', client.get("/").content.decode())
        return who is not None and who.group(1).startswith("Signed in")


@contextmanager
def example_site() -> Iterator[Site]:
    clock, sink = FakeClock(), MemorySink()
    policy = SessionPolicy(idle_timeout=600, absolute_timeout=3600, touch_interval=10)
    manager = SessionManager(MemoryStore(), clock=clock, sinks=[sink], policy=policy)
    django_site.CURRENT = manager
    conf.reset()
    with override_settings(ROOT_URLCONF="exampleproject.urls"), transaction.atomic():
        users: Any = get_user_model().objects
        user = users.create_user("alice", password=PASSWORD, is_staff=True)
        yield Site(manager, clock, sink, user)
        transaction.set_rollback(True)
    conf.reset()


def login(client: Client, username: str = "alice", password: str = PASSWORD) -> Any:
    return client.post("/login/", {"username": username, "password": password})
