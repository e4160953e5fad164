"""The weather a trip was driven in: sample its readings, look the hours up, store the summary.

Runs in its own Celery task after finalization, so a weather outage can leave a
trip's weather empty but never its figures. The task's event gets a summary
(`weather.*`); each lookup has its own boundary event (telemetry/weather.py).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from logging_policy.current import current_event
from telemetry.enqueue import task_enqueue_on_commit
from telemetry.models import Reading, Trip
from telemetry.weather import weather_lookup
from telemetry.weather_model import (
    HourWeather, TripWeather, hour_nearest, location_round, sample_points, trip_weather_summarize,
)

SAMPLE_EVERY = timedelta(minutes=15)


def trip_weather_enqueue(*, trip_id: int) -> None:
    """Queue the lookup for a just-finalized trip when the `weather_integration` flag is on."""
    if not settings.FEATURE_FLAGS.get("weather_integration"):
        return
    from telemetry.tasks import trip_weather_task  # noqa: PLC0415 - tasks import the services, not the reverse

    task_enqueue_on_commit(trip_weather_task, trip_id)


def trips_weather_catch_up(*, now: datetime | None = None) -> int:
    """Re-queue the lookup of recently finished trips that still have no weather; returns how many.

    Bounded: only with the flag on, trips finalized within WEATHER_CATCH_UP_DAYS, at most
    WEATHER_CATCH_UP_MAX_TRIPS per run, and each trip at most once per
    WEATHER_CATCH_UP_RETRY_SECONDS (counted from its last attempt, or from its finalization,
    so a trip's own task is not doubled). Never-tried trips first, then the newest.
    Two queries when there is work (candidates, then marking them), one when there is none.
    """
    if not settings.FEATURE_FLAGS.get("weather_integration"):
        return 0
    now = now or timezone.now()
    retry_before = now - timedelta(seconds=settings.WEATHER_CATCH_UP_RETRY_SECONDS)
    ids = list(
        Trip.objects.filter(is_closed=True, weather_conditions="",
                            finalized_at__gte=now - timedelta(days=settings.WEATHER_CATCH_UP_DAYS),
                            finalized_at__lt=retry_before)
        .filter(Q(weather_attempted_at__isnull=True) | Q(weather_attempted_at__lt=retry_before))
        .order_by(F("weather_attempted_at").asc(nulls_first=True), "-finalized_at")
        .values_list("pk", flat=True)[: settings.WEATHER_CATCH_UP_MAX_TRIPS]
    )
    if ids:
        # Marked when queued: a backlog in the queue must not make the next run queue them again.
        Trip.objects.filter(pk__in=ids).update(weather_attempted_at=now)
        for trip_id in ids:
            trip_weather_enqueue(trip_id=trip_id)
        current_event().fact("weather_catch_up_queued")
    current_event().set("weather", catch_up_queued=len(ids))
    return len(ids)


def trip_weather_refresh(*, trip_id: int, now: datetime | None = None) -> TripWeather | None:
    """Look up and store the weather of a finalized trip; None (weather left as it was) when it cannot."""
    event = current_event()
    event.set("trip", id=trip_id)
    # Marks the attempt (the catch-up spaces its retries from it) and checks the trip in one query.
    if not Trip.objects.filter(pk=trip_id, is_closed=True).update(weather_attempted_at=timezone.now()):
        event.set("weather", skipped="trip_not_finalized")
        return None
    points = list(Reading.objects.filter(trip_id=trip_id).order_by("recorded_at")
                  .values_list("recorded_at", "latitude", "longitude"))
    samples = sample_points(points, SAMPLE_EVERY)
    if not samples:
        event.set("weather", samples=0, skipped="no_position", stored=False)
        return None

    wanted: dict[tuple[float, float], set[datetime]] = defaultdict(set)
    keys: list[tuple[tuple[float, float], datetime]] = []
    for at, lat, lon in samples:
        place = location_round(lat, lon, settings.WEATHER_GRID_DEGREES)
        hour = hour_nearest(at)
        wanted[place].add(hour)
        keys.append((place, hour))

    found: dict[tuple[tuple[float, float], datetime], HourWeather] = {}
    attempts, latency_ms, all_cached, error_code = 0, 0.0, True, None
    for place, hours in wanted.items():
        lookup = weather_lookup(latitude=place[0], longitude=place[1], hours=sorted(hours), now=now)
        found.update(((place, h), w) for h, w in lookup.hours.items())
        attempts += lookup.attempts
        latency_ms += lookup.latency_ms
        all_cached = all_cached and lookup.cache_hit
        error_code = error_code or lookup.error_code

    weather = trip_weather_summarize(found[k] for k in keys if k in found)
    event.set(
        "weather", attempts=attempts, latency_ms=round(latency_ms, 3), cache_hit=all_cached,
        error_code=error_code, lookups=len(wanted), samples=len(samples),
        samples_answered=sum(1 for k in keys if k in found), stored=weather is not None,
    )
    if error_code:
        event.note_warning(error_code, "weather lookup failed; the trip keeps what it has")
    if weather is None:
        return None
    Trip.objects.filter(pk=trip_id).update(
        weather_temp_f=weather.temp_f, weather_precipitation_in=weather.precipitation_in,
        weather_wind_mph=weather.wind_mph, weather_conditions=weather.conditions,
        weather_impact_factor=weather.impact_factor, extreme_weather=weather.extreme,
    )
    event.set("weather", conditions=weather.conditions, impact_factor=weather.impact_factor,
              extreme=weather.extreme)
    return weather
