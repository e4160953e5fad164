"""VoltTracker settings: every value comes from the environment, read here once.

See docs/operations.md for the full list. With nothing set, the service runs on
embedded defaults (a SQLite file, a file-system cache and a file-system Celery
broker) so that `make run` works on a bare machine.
"""

from __future__ import annotations

import socket
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"  # embedded database, cache and broker; made at start-up (volttracker/apps.py)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

ENVIRONMENT: str = env.str("ENVIRONMENT", default="development")
IS_PRODUCTION = ENVIRONMENT == "production"
DEBUG: bool = env.bool("DEBUG", default=False)

# A fixed, obviously insecure key is given to a developer's machine only (ENVIRONMENT development or
# test, or DEBUG on): staging and production must set their own.
_KEY_OPTIONAL = DEBUG or ENVIRONMENT in ("development", "test")
SECRET_KEY: str = env.str("SECRET_KEY", default="")
if not _KEY_OPTIONAL and (len(SECRET_KEY) < 50 or SECRET_KEY == "change-me"):
    raise ImproperlyConfigured(
        f"SECRET_KEY must be set when ENVIRONMENT={ENVIRONMENT} and DEBUG is off, at least 50 random characters "
        "(python -c \"import secrets; print(secrets.token_urlsafe(50))\")."
    )
if not SECRET_KEY:
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=[] if IS_PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "volttracker",  # first: its admin/base_site.html (the site's icon) overrides the admin's
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "logging_policy",
    "telemetry",
]

MIDDLEWARE = [
    "logging_policy.middleware.WideEventMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "volttracker.urls"
WSGI_APPLICATION = "volttracker.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# --- Database -----------------------------------------------------------------
# The SQLite default is shared by the web server and the Celery worker: WAL lets
# readers run beside the writer, IMMEDIATE transactions make a second writer wait
# (up to `timeout`) for the lock instead of failing with "database is locked".
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'volttracker.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
else:
    # Bounded waits: a stuck database must turn into a quick 503, not a hung worker.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Web requests only (volttracker/db_timeouts.py, applied by volttracker/wsgi.py): a query running longer,
# or waiting longer for a lock, fails the request with 503 E203 + Retry-After instead of holding the
# worker. Migrations, commands and Celery tasks have no limit. 0 turns a limit off.
DATABASE_WEB_STATEMENT_TIMEOUT_MS: int = env.int("DATABASE_WEB_STATEMENT_TIMEOUT_MS", default=5000)
DATABASE_WEB_LOCK_TIMEOUT_MS: int = env.int("DATABASE_WEB_LOCK_TIMEOUT_MS", default=2000)
# /healthz reports the database failing when its probe of the readings table takes longer than this.
HEALTHZ_DATABASE_TIMEOUT_MS: int = env.int("HEALTHZ_DATABASE_TIMEOUT_MS", default=1000)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and broker -----------------------------------------------------------
REDIS_URL: str = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "volttracker",
            # Short socket timeouts: Redis being down degrades the service, never stalls it.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    # Shared by web and worker processes on one machine, unlike LocMemCache.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# The file-system broker ignores the host; naming one keeps kombu from warning on every connection.
CELERY_BROKER_URL: str = REDIS_URL or "filesystem://localhost/"
if not REDIS_URL:
    _broker_dir = str(VAR_DIR / "broker")
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": _broker_dir,
        "data_folder_out": _broker_dir,
        # kombu's default is `control/` in the working directory, i.e. the checkout.
        "control_folder": str(VAR_DIR / "broker-control"),
        "processed_folder": str(VAR_DIR / "broker-processed"),
        "store_processed": False,
    }
else:
    # max_retries=0: without it kombu retries a refused connection for 2 s inside every publish
    # (measured: docs/reliability.md); the worker's consumer reconnects on its own retry loop
    # (CELERY_BROKER_CONNECTION_MAX_RETRIES), which this option does not touch.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5, "max_retries": 0}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER: bool = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True
# A task that hangs (a lock, a stuck socket) is stopped: SoftTimeLimitExceeded inside it at the soft
# limit (its wide event records the failure), the process killed at the hard one. Tasks that do more
# set their own (telemetry/tasks.py); docs/operations.md lists them.
CELERY_TASK_SOFT_TIME_LIMIT: int = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT: int = env.int("CELERY_TASK_TIME_LIMIT", default=90)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must fail fast when the broker is away: the reading is already stored
# and the beat schedule catches the work up.
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_TASK_PUBLISH_RETRY = False

TRIP_STALE_SECONDS: int = env.int("TRIP_STALE_SECONDS", default=120)
# A pause between a session's readings longer than this splits it into two trips at finalization
# (docs/units.md): a phone left logging in a parked car overnight. Shorter gaps (a dead zone mid-drive,
# readings lost) stay one trip. Never shorter than the stale window.
TRIP_SPLIT_GAP_SECONDS: int = max(env.int("TRIP_SPLIT_GAP_SECONDS", default=1800), TRIP_STALE_SECONDS)
# A charge goes on across a pause in its readings up to this long (docs/charging.md): a phone that
# logs every few minutes while the car charges, a dropped link. Never shorter than the stale window.
CHARGING_GAP_SECONDS: int = max(env.int("CHARGING_GAP_SECONDS", default=1800), TRIP_STALE_SECONDS)
# Clock skew allowed to a phone: a reading dated later than this ahead of the server is refused (E306).
READING_FUTURE_ALLOWANCE_SECONDS: int = env.int("READING_FUTURE_ALLOWANCE_SECONDS", default=900)
STATS_REFRESH_INTERVAL_SECONDS: int = env.int("STATS_REFRESH_INTERVAL_SECONDS", default=900)
POLICY_SYNC_INTERVAL_SECONDS: float = env.float("POLICY_SYNC_INTERVAL_SECONDS", default=5.0)
CELERY_BEAT_SCHEDULE = {
    "close-stale-trips": {
        "task": "telemetry.tasks.trips_close_stale",
        "schedule": env.float("STALE_CHECK_INTERVAL_SECONDS", default=60.0),
    },
    "refresh-vehicle-stats": {
        "task": "telemetry.tasks.vehicle_stats_refresh_all",
        "schedule": float(STATS_REFRESH_INTERVAL_SECONDS),
    },
    # Heals a policy publish that was lost (docs/policy.md). A run still queued after one interval
    # is dropped: the next one does the same work, so a stopped worker does not pile them up.
    "sync-policy": {
        "task": "logging_policy.tasks.policy_sync",
        "schedule": POLICY_SYNC_INTERVAL_SECONDS,
        "options": {"expires": POLICY_SYNC_INTERVAL_SECONDS},
    },
}

# --- Auth, i18n, static -------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
# The zone pages show times in (the owner's, e.g. America/Los_Angeles); the database and events keep UTC.
TIME_ZONE: str = env.str("TIME_ZONE", default="UTC")
FORMAT_MODULE_PATH = ["volttracker.formats"]
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
# Outside var/: in Docker Compose var/ is a volume shared by web, worker and beat, which would hide the
# image's collected files (and their manifest) behind the first deploy's.
STATIC_ROOT = BASE_DIR / "staticfiles"
# Browser libraries from npm (package.json) are in volttracker/static/vendor/, copied there by
# `make vendor` and committed, so nothing is fetched from a CDN or the registry at run time.
# Outside production the admin's files are served straight from the apps, no collectstatic needed.
WHITENOISE_USE_FINDERS = not IS_PRODUCTION
# The admin's CSS and JS are served by the app itself (WhiteNoise), so gunicorn needs no web server in front.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if IS_PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security -----------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if IS_PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
# Torque Pro uploads are small; anything far larger is abuse or a mistake.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=256 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = env.int("DATA_UPLOAD_MAX_NUMBER_FIELDS", default=500)
# A track log uploaded in the admin (docs/import.md): about 0.4 MB per 1,000 rows; bigger ones by command.
TRACKLOG_UPLOAD_MAX_MB: int = env.int("TRACKLOG_UPLOAD_MAX_MB", default=50)

# --- Service identity, feature flags, wide events -----------------------------
SERVICE_NAME: str = env.str("SERVICE_NAME", default="volttracker")
APP_VERSION: str = env.str("APP_VERSION", default="") or (BASE_DIR / "VERSION").read_text().strip()
DEPLOYMENT_ID: str = env.str("DEPLOYMENT_ID", default=f"local-{socket.gethostname()}")
DEPLOYMENT_TIMESTAMP: str = env.str("DEPLOYMENT_TIMESTAMP", default="")
REGION: str = env.str("REGION", default="local")

FEATURE_FLAGS: dict[str, bool] = {
    "weather_integration": env.bool("FEATURE_WEATHER_INTEGRATION", default=False),
    "enhanced_route_detection": env.bool("FEATURE_ENHANCED_ROUTE_DETECTION", default=False),
    "predictive_range": env.bool("FEATURE_PREDICTIVE_RANGE", default=False),
}

WEATHER_API_URL: str = env.str("WEATHER_API_URL", default="https://api.open-meteo.com/v1/forecast")
WEATHER_ARCHIVE_API_URL: str = env.str(
    "WEATHER_ARCHIVE_API_URL", default="https://archive-api.open-meteo.com/v1/archive"
)
# The weather boundary (docs/weather.md): each attempt is bounded, retries are few and spaced.
WEATHER_TIMEOUT_SECONDS: float = env.float("WEATHER_TIMEOUT_SECONDS", default=5.0)
WEATHER_MAX_ATTEMPTS: int = env.int("WEATHER_MAX_ATTEMPTS", default=3)
WEATHER_BACKOFF_BASE_SECONDS: float = env.float("WEATHER_BACKOFF_BASE_SECONDS", default=0.5)
WEATHER_BACKOFF_MAX_SECONDS: float = env.float("WEATHER_BACKOFF_MAX_SECONDS", default=8.0)
WEATHER_RETRY_AFTER_MAX_SECONDS: float = env.float("WEATHER_RETRY_AFTER_MAX_SECONDS", default=30.0)
WEATHER_MAX_RESPONSE_BYTES: int = env.int("WEATHER_MAX_RESPONSE_BYTES", default=1024 * 1024)
WEATHER_CACHE_SECONDS: int = env.int("WEATHER_CACHE_SECONDS", default=7 * 24 * 3600)
WEATHER_GRID_DEGREES: float = env.float("WEATHER_GRID_DEGREES", default=0.1)
# Older samples go to the archive API (reanalysis lags real time by about five days).
WEATHER_FORECAST_MAX_AGE_DAYS: int = env.int("WEATHER_FORECAST_MAX_AGE_DAYS", default=7)
# Catch-up (docs/weather.md): the stale-trips beat task re-queues lookups for trips finished within
# the last WEATHER_CATCH_UP_DAYS that still have no weather, at most WEATHER_CATCH_UP_MAX_TRIPS per run,
# each trip at most once per WEATHER_CATCH_UP_RETRY_SECONDS.
WEATHER_CATCH_UP_DAYS: float = env.float("WEATHER_CATCH_UP_DAYS", default=2.0)
WEATHER_CATCH_UP_MAX_TRIPS: int = env.int("WEATHER_CATCH_UP_MAX_TRIPS", default=20)
WEATHER_CATCH_UP_RETRY_SECONDS: int = env.int("WEATHER_CATCH_UP_RETRY_SECONDS", default=1800)

WIDE_EVENTS_PATH: str = env.str("WIDE_EVENTS_PATH", default="")
WIDE_EVENTS_MAX_BYTES: int = env.int("WIDE_EVENTS_MAX_BYTES", default=64 * 1024)
# runserver's access lines (`make run` sets var/access.log): all of them go to this file, and only
# 4xx/5xx ones to the terminal. Empty: every line to the terminal, as Django does.
ACCESS_LOG_PATH: str = env.str("ACCESS_LOG_PATH", default="")

# The event explorer (docs/queries.md): WIDE_EVENTS_PATH loaded into Parquet files under EVENTS_STORE_DIR
# by beat every EVENTS_LOAD_INTERVAL_SECONDS, kept EVENTS_RETENTION_DAYS. EVENTS_STORE_URL
# (clickhouse://host:8123/database) queries ClickHouse instead, filled by a log shipper.
EVENTS_STORE_DIR: Path = Path(env.str("EVENTS_STORE_DIR", default=str(VAR_DIR / "events")))
EVENTS_STORE_URL: str = env.str("EVENTS_STORE_URL", default="")
EVENTS_RETENTION_DAYS: float = env.float("EVENTS_RETENTION_DAYS", default=30.0)
EVENTS_LOAD_INTERVAL_SECONDS: float = env.float("EVENTS_LOAD_INTERVAL_SECONDS", default=60.0)
# Query cost bounds: groups answered, seconds a query may run, bytes of not-yet-loaded log read.
EXPLORER_MAX_GROUPS: int = env.int("EXPLORER_MAX_GROUPS", default=1000)
EXPLORER_TIME_LIMIT_SECONDS: float = env.float("EXPLORER_TIME_LIMIT_SECONDS", default=10.0)
EXPLORER_TAIL_MAX_BYTES: int = env.int("EXPLORER_TAIL_MAX_BYTES", default=16 * 1024 * 1024)
if WIDE_EVENTS_PATH and not EVENTS_STORE_URL:
    # A run still queued after one interval is dropped: the next one loads the same lines.
    CELERY_BEAT_SCHEDULE["load-events"] = {
        "task": "logging_policy.tasks.events_load",
        "schedule": EVENTS_LOAD_INTERVAL_SECONDS,
        "options": {"expires": EVENTS_LOAD_INTERVAL_SECONDS},
    }

# Directories the processes write to, made at start-up (volttracker/apps.py), not on import.
RUNTIME_DIRS: list[Path] = [VAR_DIR, STATIC_ROOT, *([] if REDIS_URL else [VAR_DIR / "broker"])]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"},
    },
    # No plain log line shows an upload token (it travels in the URL path) or an e-mail address
    # (logging_policy/log_filters.py).
    "filters": {"redact": {"()": "logging_policy.log_filters.PlainLogRedactFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
        # runserver's access lines (`make run`), as Django configures them, plus the redaction filter;
        # with ACCESS_LOG_PATH the terminal keeps the failures and the file has every line.
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server",
                          "level": "WARNING" if ACCESS_LOG_PATH else "INFO", "filters": ["redact"]},
        **({"access_file": {"class": "logging.handlers.WatchedFileHandler", "filename": ACCESS_LOG_PATH,
                            "formatter": "django.server", "level": "INFO", "filters": ["redact"], "delay": True}}
           if ACCESS_LOG_PATH else {}),
        "wide_events": (
            # Opened on the first event, after start-up has made var/ and the system checks have
            # said whether the path is writable (logging_policy.E001).
            {"class": "logging_policy.emit.SafeFileHandler", "filename": WIDE_EVENTS_PATH, "delay": True}
            if WIDE_EVENTS_PATH
            else {"class": "logging_policy.emit.SafeStreamHandler", "stream": "ext://sys.stdout"}
        ),
    },
    "loggers": {
        "wide_events": {"handlers": ["wide_events"], "level": "INFO", "propagate": False},
        # Django's default handlers for "django" (its console prints unfiltered lines under DEBUG) are
        # replaced by ours; the level stays Django's own.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.server": {"handlers": ["django.server", *(["access_file"] if ACCESS_LOG_PATH else [])],
                          "level": "INFO", "propagate": False},
        # Celery's per-task INFO lines ("Sending due task", "Received task", "succeeded in") are
        # three lines per run (policy_sync alone: every 5 s); the task's wide event already tells it.
        # WARNING still shows failures ("raised unexpected" is ERROR). CELERY_TASK_LOG_LEVEL=INFO
        # brings them back (docs/operations.md).
        **{
            name: {"level": env.str("CELERY_TASK_LOG_LEVEL", default="WARNING")}
            for name in ("celery.app.trace", "celery.worker.strategy", "celery.beat")
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}

# Where Torque Pro reaches this server; used to print upload URLs and by simulate_drive.
# PORT is the port `make run` serves on (Procfile), so the default follows it.
PUBLIC_BASE_URL: str = env.str("PUBLIC_BASE_URL", default=f"http://localhost:{env.int('PORT', default=8000)}")
