"""Statement and lock timeouts for the web process's database connections.

A web request waiting behind a lock holds one of gunicorn's few sync workers until the worker is killed
(an empty reply, no event). Bounded, it fails in seconds with 503 E203 and Retry-After, and its event is
written. Only the web process is bounded (volttracker/wsgi.py applies this): migrations, management
commands and Celery tasks keep PostgreSQL's defaults, since their work may rightly be long.
"""

from __future__ import annotations

from typing import Any

from django.db import connection

POSTGRESQL_ENGINES = ("django.db.backends.postgresql", "django.contrib.gis.db.backends.postgis")


def timeout_options(*, statement_ms: int, lock_ms: int) -> str:
    """libpq `options` setting both timeouts for the whole session (0: no limit, PostgreSQL's default)."""
    return f"-c statement_timeout={statement_ms} -c lock_timeout={lock_ms}"


def web_database_timeouts_apply(databases: dict[str, dict[str, Any]], *, statement_ms: int, lock_ms: int) -> None:
    """Add the timeouts to every PostgreSQL connection opened from now on in this process.

    Sent with the connection's startup packet: no extra query per request or per connection. The
    settings dicts are the ones Django's connection handler holds, so connections made later use them.
    """
    for database in databases.values():
        if database.get("ENGINE") not in POSTGRESQL_ENGINES:
            continue
        options = database.setdefault("OPTIONS", {})
        ours = timeout_options(statement_ms=statement_ms, lock_ms=lock_ms)
        options["options"] = f"{options['options']} {ours}" if options.get("options") else ours


def statement_timeout_set_local(milliseconds: int) -> None:
    """Another statement limit until the current transaction ends (0: none), for web work known to be
    long (a track-log import from the admin) or bounded tighter (/healthz). Call inside `transaction.atomic()`."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = %s", [milliseconds])
