"""The query budget of a steady-state upload (a new, in-order reading of an open trip, no charging)."""

from __future__ import annotations

from django.db import connection


def steady_upload_queries() -> int:
    """PostgreSQL: 1 the session's trip and the odometer neighbours, by the vehicle's id and token hash (the
    vehicle and its stats row are cached by the process for telemetry.auth.CACHE_SECONDS; the first upload
    reads them in this statement, by token hash), 2 `WITH r AS (INSERT
    reading ON CONFLICT DO NOTHING RETURNING id) UPDATE trip counters, gas and parked state FROM r`; both
    EXECUTEs of statements prepared once per connection (telemetry/prepared.py; the PREPARE is not counted).
    SQLite has no INSERT in a CTE: the INSERT and the UPDATE are two statements there (3)."""
    return 2 if connection.vendor == "postgresql" else 3
