"""A Django project with logging_policy and without telemetry (tests/logging_policy/test_standalone.py).

It names only what logging_policy needs: its middleware, its settings, the admin. The database is
the one DATABASE_URL names (the tests' PostgreSQL), under a test database of its own.
"""

from __future__ import annotations

import environ

env = environ.Env()

SECRET_KEY = "standalone-test-key-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "logging_policy",
]
MIDDLEWARE = [
    "logging_policy.middleware.WideEventMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "tests.standalone.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
_database = env.db("DATABASE_URL")
DATABASES = {"default": {**_database, "TEST": {"NAME": f"test_standalone_{_database['NAME']}"}}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
USE_TZ = True
STATIC_URL = "static/"

# logging_policy's settings.
SERVICE_NAME = "standalone"
APP_VERSION = "1.0"
DEPLOYMENT_ID = "standalone-test"
DEPLOYMENT_TIMESTAMP = ""
ENVIRONMENT = "test"
REGION = "local"
FEATURE_FLAGS: dict[str, bool] = {}
WIDE_EVENTS_PATH = ""
WIDE_EVENTS_MAX_BYTES = 64 * 1024
POLICY_SYNC_INTERVAL_SECONDS = 5.0
EVENTS_STORE_DIR = "/nonexistent-standalone-events"
EVENTS_STORE_URL = ""
EVENTS_RETENTION_DAYS = 30.0
EXPLORER_MAX_GROUPS = 1000
EXPLORER_TIME_LIMIT_SECONDS = 10.0
EXPLORER_TAIL_MAX_BYTES = 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "logging_policy.log_filters.PlainLogRedactFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    # The checks attach their own handler to `wide_events`.
    "loggers": {"wide_events": {"handlers": [], "level": "INFO", "propagate": False}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
