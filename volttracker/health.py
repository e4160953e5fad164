"""Liveness and readiness for load balancers and compose health checks."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse

from logging_policy.current import current_event
from logging_policy.error_codes import classify_exception
from telemetry.models import Reading
from volttracker.db_timeouts import statement_timeout_set_local


def database_check() -> str:
    """"ok" when a trivial query on the readings table answers within HEALTHZ_DATABASE_TIMEOUT_MS.

    The readings table, not `SELECT 1`: a lock held on it stops every upload while the server itself
    answers; reading it takes the lock an exclusive holder refuses, so the probe waits and times out too.
    """
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            statement_timeout_set_local(settings.HEALTHZ_DATABASE_TIMEOUT_MS)
            cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(Reading._meta.db_table)} LIMIT 0")
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return f"error: {classify_exception(exc).name} ({type(exc).__name__})"


def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers; the cache is reported but only degrades (never fails) health."""
    checks: dict[str, str] = {"database": database_check()}
    try:
        cache.set("healthz", "1", 5)
        checks["cache"] = "ok" if cache.get("healthz") == "1" else "error: no round trip"
    except Exception as exc:  # noqa: BLE001
        checks["cache"] = f"error: {type(exc).__name__}"
    healthy = checks["database"] == "ok"
    current_event().set("health", checks)
    return JsonResponse({"status": "ok" if healthy else "unavailable", "checks": checks},
                        status=200 if healthy else 503)
