"""App configuration: registers the system checks at start-up."""

from __future__ import annotations

from django.apps import AppConfig


class SessionwardSessionsConfig(AppConfig):  # type: ignore[misc]
    name = "sessionward.integrations.django.sessions"
    label = "sessionward_sessions"
    verbose_name = "sessionward sessions"

    def ready(self) -> None:
        from .. import checks

        checks.register()
