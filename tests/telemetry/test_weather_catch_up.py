"""The weather catch-up: trips finished while the weather failed get it later, bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from logging_policy.current import event_bound
from logging_policy.emit import event_emit, event_open
from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.models import Trip
from telemetry.tasks import trip_weather_task, trips_close_stale
from telemetry.trip_weather import trips_weather_catch_up
from telemetry.trips import trip_finalize
from tests.factories import trip_make
from tests.weather_server import WeatherServer, clean_weather_cache, weather_server  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def weather_on(settings: Any) -> Any:
    settings.FEATURE_FLAGS = {**settings.FEATURE_FLAGS, "weather_integration": True}
    settings.WEATHER_CATCH_UP_DAYS = 2
    settings.WEATHER_CATCH_UP_RETRY_SECONDS = 1800
    settings.WEATHER_CATCH_UP_MAX_TRIPS = 20
    return settings


def finished(vehicle: Any, ago: timedelta, **fields: Any) -> Trip:
    trip = trip_make(vehicle, NOW - ago - timedelta(minutes=30), **fields)
    Trip.objects.filter(pk=trip.pk).update(finalized_at=NOW - ago)
    return trip


def queued(trip: Trip) -> bool:
    trip.refresh_from_db()
    return trip.weather_attempted_at == NOW


def test_only_recent_trips_without_weather_and_not_tried_lately_are_queued(
        volt, weather_on, django_capture_on_commit_callbacks, django_assert_num_queries) -> None:
    v = volt.vehicle
    missed = finished(v, timedelta(hours=5))
    tried_long_ago = finished(v, timedelta(hours=20), weather_attempted_at=NOW - timedelta(hours=1))
    tried_lately = finished(v, timedelta(hours=6), weather_attempted_at=NOW - timedelta(minutes=10))
    just_finished = finished(v, timedelta(minutes=5))  # its own task is still in flight
    too_old = finished(v, timedelta(days=3))
    has_weather = finished(v, timedelta(hours=4), weather_conditions="rain", weather_temp_f=50.0)
    still_open = trip_make(v, NOW - timedelta(hours=2), closed=False)

    with django_capture_on_commit_callbacks() as callbacks:
        with django_assert_num_queries(2):
            # 1 candidate trip ids (partial index on finalized_at), 2 UPDATE weather_attempted_at of those
            assert trips_weather_catch_up(now=NOW) == 2
    assert len(callbacks) == 2  # one trip_weather task each, queued on commit
    assert [queued(t) for t in (missed, tried_long_ago)] == [True, True]
    assert not any(queued(t) for t in (tried_lately, just_finished, too_old, has_weather, still_open))
    assert trips_weather_catch_up(now=NOW + timedelta(minutes=1)) == 0  # marked: not queued again at once


def test_at_most_n_per_run_never_tried_first(volt, weather_on, django_capture_on_commit_callbacks) -> None:
    weather_on.WEATHER_CATCH_UP_MAX_TRIPS = 2
    v = volt.vehicle
    retried = finished(v, timedelta(hours=2), weather_attempted_at=NOW - timedelta(hours=1))
    older = finished(v, timedelta(hours=10))
    newer = finished(v, timedelta(hours=3))
    with django_capture_on_commit_callbacks() as callbacks:
        assert trips_weather_catch_up(now=NOW) == 2
    assert len(callbacks) == 2
    assert [queued(t) for t in (newer, older, retried)] == [True, True, False]
    assert trips_weather_catch_up(now=NOW + timedelta(minutes=10)) == 1  # the next run takes the rest
    retried.refresh_from_db()
    assert retried.weather_attempted_at == NOW + timedelta(minutes=10)


def test_flag_off_queries_nothing(volt, settings, django_assert_num_queries) -> None:
    settings.FEATURE_FLAGS = {**settings.FEATURE_FLAGS, "weather_integration": False}
    finished(volt.vehicle, timedelta(hours=5))
    with django_assert_num_queries(0):
        assert trips_weather_catch_up(now=NOW) == 0


def test_a_trip_finished_while_weather_failed_gets_it_from_the_stale_task(
        volt, upload, weather_on, weather_server: WeatherServer, clean_weather_cache, wide_events,
        django_capture_on_commit_callbacks) -> None:
    from volttracker.celery import app

    start = datetime.now(UTC).replace(minute=15, second=0, microsecond=0) - timedelta(hours=3)
    for params in drive_readings(DrivePlan(session="wx-late", start=start, electric_miles=1, gas_miles=0)):
        assert upload(volt.token, params).content == b"OK!"
    trip = Trip.objects.get(session="wx-late")
    trip_finalize(trip_id=trip.pk)
    weather_server.script = [("status", 500)]  # the weather is down when the trip's own task runs
    event = event_open(operation="trip_weather", kind="task")
    with event_bound(event):
        trip_weather_task(trip.pk)
    event_emit(event)
    trip.refresh_from_db()
    assert trip.weather_conditions == "" and trip.weather_attempted_at is not None

    weather_on.WEATHER_CATCH_UP_RETRY_SECONDS = 0  # the next beat run may retry it at once
    weather_server.script = ["ok"]  # and the weather is back
    app.conf.task_always_eager = True  # the real task, run in this process by Celery itself
    try:
        beat = event_open(operation="trips_close_stale", kind="task")
        with django_capture_on_commit_callbacks(execute=True):
            with event_bound(beat):
                trips_close_stale()
        event_emit(beat)  # after the commit, as the worker's: the queued tasks are on it
    finally:
        app.conf.task_always_eager = False
    trip.refresh_from_db()
    assert trip.weather_conditions == "overcast" and trip.weather_temp_f == pytest.approx(50.0)
    [stale] = [e for e in wide_events.events if e["operation"] == "trips_close_stale"]
    assert stale["weather"] == {"catch_up_queued": 1}
    assert stale["tasks"]["queued"] == ["telemetry.tasks.trip_weather"]
    assert timezone.now() - trip.weather_attempted_at < timedelta(minutes=1)


def test_the_seeded_policy_keeps_every_weather_and_trip_operation_but_the_idle_sweep() -> None:
    from logging_policy.payload import snapshot_from_payload
    from logging_policy.policy import policy_payload_active
    from logging_policy.sampling import decide
    from logging_policy.synthetic import trace_id_drawing

    payload = policy_payload_active()  # the migration's seed
    assert payload is not None
    seeded = snapshot_from_payload(payload, source="database")
    unlucky = trace_id_drawing(at_least=0.99)  # dropped by any rate below 99 %
    vehicle = {"id": 1, "total_trips": 5, "account_age_days": 400}
    for operation in ("trip_weather", "external_api.weather", "trip_finalize"):
        decision = decide(seeded, {"operation": operation, "trace_id": unlucky, "success": True,
                                   "duration_ms": 5.0, "vehicle": vehicle})
        assert (operation, decision.keep, decision.rate) == (operation, True, 1.0)
    # The sweep is kept when it acted (a critical fact, tests/telemetry/test_stale_sweep.py), else at 1 %.
    sweep = decide(seeded, {"operation": "trips_close_stale", "trace_id": unlucky, "success": True,
                            "duration_ms": 5.0, "business": {"weather_catch_up_queued": True}})
    assert (sweep.keep, sweep.reason) == (True, "critical_event")
    assert decide(seeded, {"operation": "telemetry_upload", "trace_id": unlucky, "success": True,
                           "duration_ms": 5.0, "vehicle": vehicle}).keep is False
