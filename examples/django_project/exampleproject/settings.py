"""Settings of the example project: a stock Django project switched to sessionward.

The lines marked ``# sessionward`` are all that changed from ``django-admin startproject``.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = os.environ.get("EXAMPLE_SECRET_KEY", "example-only-not-secret-" + "x" * 40)
# Plain-HTTP development (runserver) needs EXAMPLE_DEBUG=1 and the development cookie below.
DEBUG = os.environ.get("EXAMPLE_DEBUG") == "1"
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "sessionward.integrations.django.sessions",  # sessionward: checks, pages, clearsessions
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "sessionward.integrations.django.SessionwardMiddleware",  # sessionward (was SessionMiddleware)
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "exampleproject.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("EXAMPLE_DB", BASE_DIR / "db.sqlite3"),
    },
}
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# sessionward
SESSION_ENGINE = "sessionward.integrations.django.engine"
SESSIONWARD_STORE = os.environ.get(
    "EXAMPLE_SESSION_STORE", f"sqlite:///{BASE_DIR / 'sessions.sqlite3'}"
)
SESSION_COOKIE_NAME = "__Host-session"
if DEBUG:
    # http://127.0.0.1:8000 cannot keep a Secure or __Host- cookie (a deploy check warns if
    # this is ever used with DEBUG off).
    SESSIONWARD_COOKIE = {"name": "session", "secure": False, "host_prefix": False}
    SESSION_COOKIE_NAME = "session"
