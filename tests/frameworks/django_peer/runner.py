"""Run Django's own session and auth tests against sessionward, in a process of its own.

Started by ``tests/frameworks/test_django_peer.py``::

    python runner.py DJANGO_TESTS_DIR STORE RESULT_JSON SUITES

``STORE`` is ``sqlite``, ``redis`` or ``postgres``; ``SUITES`` is ``mixin`` (Django's
``SessionTestsMixin`` only) or ``all`` (plus ``SessionMiddlewareTests`` with our middleware and
the session-related ``auth_tests``). The result file maps each test id to ``pass``, ``fail``,
``error`` or ``skip``. Nothing of Django's test code is kept in this repository: the directory
comes from the sdist of the installed Django, downloaded at test time.
"""

from __future__ import annotations

import faulthandler
import json
import os
import sys
import tempfile
import unittest
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
TESTS_ROOT = HERE.parents[2]  # our tests/ directory (for distributed.services)

AUTH_CLASSES = [
    "auth_tests.test_views.LoginTest",
    "auth_tests.test_views.LogoutTest",
    "auth_tests.test_views.ChangePasswordTest",
    "auth_tests.test_views.SessionAuthenticationTests",
    "auth_tests.test_middleware.TestAuthenticationMiddleware",
    "auth_tests.test_login.TestLogin",
]


def configure(django_tests: Path, store: str, workdir: Path) -> None:
    import django
    from django.conf import settings

    sys.path[:0] = [str(django_tests), str(TESTS_ROOT)]
    unique = f"sw-djpeer-{uuid.uuid4().hex[:12]}"
    options: dict[str, str] = {}
    if store == "sqlite":
        url = f"sqlite:///{workdir / 'sessions.sqlite3'}"
    elif store == "redis":
        from distributed.services import REDIS_URL

        url, options = REDIS_URL, {"prefix": unique}
    else:
        from distributed.services import POSTGRES_URL

        url, options = POSTGRES_URL, {"schema": unique.replace("-", "_")}
    settings.configure(
        DEBUG=False,
        SECRET_KEY="sessionward-django-peer-" + "x" * 32,
        USE_TZ=True,
        ALLOWED_HOSTS=["testserver"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        # As Django's runtests.py: test models inherit from these apps, so no migrations.
        MIGRATION_MODULES={"auth": None, "contenttypes": None, "sessions": None},
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django.contrib.sites",
            "django.contrib.sessions",  # sessions_tests imports its models; it does no work
            "django.contrib.messages",
            "django.contrib.admin.apps.SimpleAdminConfig",
            "django.contrib.staticfiles",
            "sessions_tests",
            "auth_tests",
        ],
        MIDDLEWARE=[
            "sessionward.integrations.django.SessionwardMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
        ],
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                    ]
                },
            }
        ],
        ROOT_URLCONF="auth_tests.urls",
        STATIC_URL="static/",
        SITE_ID=1,
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        SESSION_ENGINE="sessionward.integrations.django.engine",
        SESSION_COOKIE_NAME="__Host-session",
        SESSION_COOKIE_AGE=1800,
        SESSIONWARD_STORE=url,
        SESSIONWARD_STORE_OPTIONS=options,
        SESSIONWARD_POLICY={"idle_timeout": 1800, "absolute_timeout": 8 * 3600},
        SESSIONWARD_SINKS=[],
    )
    django.setup()


def build_suite(suites: str) -> unittest.TestSuite:
    from django.test import TestCase
    from sessions_tests import tests as session_tests

    from sessionward.integrations.django import SessionwardMiddleware
    from sessionward.integrations.django.engine import SessionStore

    class SessionwardSessionTests(session_tests.SessionTestsMixin, TestCase):  # type: ignore[misc]
        backend = SessionStore

    loader = unittest.TestLoader()
    suite = unittest.TestSuite([loader.loadTestsFromTestCase(SessionwardSessionTests)])
    if suites == "all":
        # Django's middleware tests, pointed at ours (and at our store where they build one).
        session_tests.SessionMiddleware = SessionwardMiddleware
        session_tests.DatabaseSession = SessionStore
        suite.addTests(loader.loadTestsFromTestCase(session_tests.SessionMiddlewareTests))
        for name in AUTH_CLASSES:
            suite.addTests(loader.loadTestsFromName(name))
    return suite


class Recorder(unittest.TextTestResult):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outcomes: dict[str, str] = {}
        self.reasons: dict[str, str] = {}

    @staticmethod
    def key(test: unittest.TestCase) -> str:
        cls = type(test).__name__
        if cls == "SessionwardSessionTests":
            cls = "SessionTestsMixin"
        return f"{cls}.{test._testMethodName}"

    def _note(self, test: Any, outcome: str, err: Any = None) -> None:
        key = self.key(test) if isinstance(test, unittest.TestCase) else str(test)
        if self.outcomes.get(key) in ("fail", "error"):
            return  # a subtest already failed
        self.outcomes[key] = outcome
        if err is not None:
            self.reasons[key] = self._exc_info_to_string(err, test).strip().splitlines()[-1]

    def addSuccess(self, test: Any) -> None:
        super().addSuccess(test)
        self.outcomes.setdefault(self.key(test), "pass")

    def addFailure(self, test: Any, err: Any) -> None:
        super().addFailure(test, err)
        self._note(test, "fail", err)

    def addError(self, test: Any, err: Any) -> None:
        super().addError(test, err)
        self._note(test, "error", err)

    def addSkip(self, test: Any, reason: str) -> None:
        super().addSkip(test, reason)
        self._note(test, "skip")

    def addSubTest(self, test: Any, subtest: Any, err: Any) -> None:
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._note(test, "fail", err)


def main() -> int:
    # The suite takes seconds; a run that hangs prints every thread's stack and exits, so the
    # test's failure shows where it waited instead of pytest-timeout's view of the parent.
    faulthandler.dump_traceback_later(90, exit=True)
    django_tests, store, result_path, suites = sys.argv[1:5]
    with tempfile.TemporaryDirectory() as tmp:
        configure(Path(django_tests), store, Path(tmp))
        from django.test.utils import setup_test_environment

        from sessionward.integrations.django import get_manager

        setup_test_environment()
        from django.test.runner import DiscoverRunner

        runner = DiscoverRunner(verbosity=0, interactive=False)
        old = runner.setup_databases()
        try:
            with open(os.devnull, "w") as devnull:
                result = unittest.TextTestRunner(
                    stream=devnull, verbosity=0, resultclass=Recorder
                ).run(build_suite(suites))
        finally:
            runner.teardown_databases(old)
            store_obj: Any = get_manager().store
            if store != "sqlite":
                store_obj.delete_all()
            drop = getattr(getattr(store_obj, "plans", None), "drop_schema", None)
            if drop is not None:
                store_obj._drive(drop(), atomic=True)
            store_obj.close()
    recorder: Any = result
    Path(result_path).write_text(
        json.dumps({"outcomes": recorder.outcomes, "reasons": recorder.reasons}, indent=1)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
