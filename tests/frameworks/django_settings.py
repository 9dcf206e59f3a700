"""One Django configuration for every Django test module in this process.

It is the example project's settings (examples/django_project), with an in-memory database, a
fast password hasher and ``SESSIONWARD_MANAGER`` pointing at the manager each test installs
(``django_site.CURRENT``, with a FakeClock and a MemorySink). Django can be configured only
once per process, so every module calls :func:`configure` before importing Django models.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "django_project"


def configure() -> None:
    import django
    from django.conf import settings

    if settings.configured:
        return
    sys.path.insert(0, str(EXAMPLE))
    from exampleproject import settings as example

    values: dict[str, Any] = {k: getattr(example, k) for k in dir(example) if k.isupper()}
    values.update(
        DEBUG=False,
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        SESSIONWARD_MANAGER="frameworks.django_site.make_manager",
    )
    values.pop("SESSIONWARD_STORE", None)
    settings.configure(**values)
    django.setup()
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0)


configure()
