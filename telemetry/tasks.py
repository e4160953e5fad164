"""Celery tasks: thin. Each fetches by id and calls a service; each run emits its own wide event."""

from __future__ import annotations

from celery import shared_task

from logging_policy.events import current_event
from telemetry.charging import charging_sessions_close_stale
from telemetry.trips import trip_finalize, trips_stale_ids


@shared_task(name="telemetry.tasks.trip_finalize")
def trip_finalize_task(trip_id: int) -> None:
    trip_finalize(trip_id=trip_id)


@shared_task(name="telemetry.tasks.trips_close_stale")
def trips_close_stale() -> int:
    """Finalize every trip, and close every charging session, with no upload for the stale window (beat)."""
    ids = trips_stale_ids()
    closed = sum(1 for trip_id in ids if trip_finalize(trip_id=trip_id) is not None)
    current_event().set("trips", stale_found=len(ids), finalized=closed)
    current_event().set("charging", stale_sessions_closed=charging_sessions_close_stale())
    return closed
