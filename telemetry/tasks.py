"""Celery tasks: thin. Each fetches by id and calls a service; each run emits its own wide event."""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from logging_policy.current import current_event
from telemetry import enqueue
from telemetry.stats import vehicle_stats_refresh, vehicle_stats_refresh_all
from telemetry.trip_weather import trip_weather_refresh, trips_weather_catch_up
from telemetry.charging import charging_sessions_close_stale
from telemetry.trips import trip_finalize, trips_stale_ids
from telemetry.vehicle_context import vehicle_context_add_by_id


@shared_task(name=enqueue.TRIP_FINALIZE)
def trip_finalize_task(trip_id: int) -> None:
    trip_finalize(trip_id=trip_id)


# The weather call has its own timeouts (docs/weather.md); the limit bounds the whole lookup.
@shared_task(name=enqueue.TRIP_WEATHER, soft_time_limit=30, time_limit=45)
def trip_weather_task(trip_id: int) -> None:
    trip_weather_refresh(trip_id=trip_id)


# A sweep may finalize many trips after an outage.
@shared_task(name=enqueue.TRIPS_CLOSE_STALE, soft_time_limit=240, time_limit=300)
def trips_close_stale() -> int:
    """Finalize every trip, and close every charging session, with no upload for the stale window (beat).

    Also re-queues the weather of recently finished trips that have none (bounded; docs/weather.md).
    A sweep that did any of it carries a critical business fact, one that failed an error: the
    default policy samples only the idle ones (docs/policy.md).
    """
    event = current_event()
    ids = trips_stale_ids()
    closed = 0
    for trip_id in ids:
        # One trip that cannot be finalized must not hold up the others (nor the sessions and weather below).
        try:
            closed += trip_finalize(trip_id=trip_id) is not None
        except SoftTimeLimitExceeded:
            raise  # the sweep's time is up: the next one goes on where this one stopped
        except Exception as exc:  # noqa: BLE001 - recorded on the event, retried by the next sweep
            event.add_error(exc, f"trip {trip_id}: {type(exc).__name__}")
            event.append("trips", "failed", trip_id)
    event.set("trips", stale_found=len(ids), finalized=closed)
    event.set("charging", stale_sessions_closed=charging_sessions_close_stale())
    trips_weather_catch_up()
    return closed


@shared_task(name=enqueue.VEHICLE_STATS_REFRESH)
def vehicle_stats_refresh_task(vehicle_id: int) -> int:
    """Recompute one vehicle's statistics (queued when one of its trips is finalized)."""
    written = vehicle_stats_refresh(vehicle_id=vehicle_id)
    vehicle_context_add_by_id(vehicle_id=vehicle_id)
    return written


# One statement per 25,000 vehicles: about 1 s for 10,000 (docs/benchmarks.md).
@shared_task(name=enqueue.VEHICLE_STATS_REFRESH_ALL, soft_time_limit=300, time_limit=360)
def vehicle_stats_refresh_all_task() -> int:
    """Recompute every vehicle's statistics (beat, every STATS_REFRESH_INTERVAL_SECONDS)."""
    return vehicle_stats_refresh_all().vehicles
