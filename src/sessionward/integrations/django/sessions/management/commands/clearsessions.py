"""``manage.py clearsessions``: delete expired sessions from the sessionward store."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from ....conf import get_manager


class Command(BaseCommand):  # type: ignore[misc]
    help = "Delete expired sessions from the sessionward store."

    def handle(self, *args: Any, **options: Any) -> None:
        removed = get_manager().purge_expired()
        if options["verbosity"] > 1:
            self.stdout.write(f"{removed} expired sessions deleted")
