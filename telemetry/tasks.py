"""Celery tasks: thin. Each fetches by id and calls a service; each run emits its own wide event."""

from __future__ import annotations

from celery import shared_task

from logging_policy.events import current_event
from telemetry.trip_weather import trip_weather_refresh
from telemetry.trips import trip_finalize, trips_stale_ids


@shared_task(name="telemetry.tasks.trip_finalize")
def trip_finalize_task(trip_id: int) -> None:
    trip_finalize(trip_id=trip_id)


@shared_task(name="telemetry.tasks.trip_weather")
def trip_weather_task(trip_id: int) -> None:
    trip_weather_refresh(trip_id=trip_id)


@shared_task(name="telemetry.tasks.trips_close_stale")
def trips_close_stale() -> int:
    """Finalize every trip with no upload for the stale window (beat, every minute)."""
    ids = trips_stale_ids()
    closed = sum(1 for trip_id in ids if trip_finalize(trip_id=trip_id) is not None)
    current_event().set("trips", stale_found=len(ids), finalized=closed)
    return closed
