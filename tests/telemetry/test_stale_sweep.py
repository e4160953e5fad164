"""The stale-trip sweep's event under the seeded policy: an idle sweep is sampled, one that acted
(closed a trip or a charging session, queued weather) or failed is kept whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from logging_policy.current import event_bound
from logging_policy.emit import event_open
from logging_policy.synthetic import trace_id_drawing
from telemetry.drive_sim import ChargePlan, DrivePlan, charge_readings, drive_readings
from telemetry.models import ChargingSession, Trip
from telemetry.tasks import trips_close_stale
from tests.factories import trip_make

pytestmark = pytest.mark.django_db
START = datetime(2026, 4, 4, 8, 0, tzinfo=UTC)
EVENING = datetime(2026, 3, 2, 19, 30, tzinfo=UTC)
UNLUCKY = trace_id_drawing(at_least=0.99)  # dropped by any rate below 99 %
LUCKY = trace_id_drawing(below=0.01)  # kept at a rate of 1 %


def sweep(capture: Any, *, trace_id: str) -> dict[str, Any] | None:
    """Run the sweep as the worker does (Celery's tracer, in this process) in `trace_id`; its event if kept."""
    beat = event_open(operation="beat", kind="task", trace_id=trace_id)  # the trace the run joins
    with event_bound(beat):
        trips_close_stale.apply()
    kept = [e for e in capture.events if e["operation"] == "trips_close_stale" and e["trace_id"] == trace_id]
    return kept[0] if kept else None


def stale_trip(upload: Any, token: str) -> Trip:
    for params in list(drive_readings(DrivePlan(session="sw-1", start=START, gas_miles=0.0)))[:4]:
        assert upload(token, params).content == b"OK!"
    Trip.objects.update(last_received_at=timezone.now() - timedelta(hours=1))
    return Trip.objects.get()


def trip_close_refused(trip_id: int | None = None) -> None:
    """PostgreSQL itself refuses to close the trip `trip_id` (any trip if None); rolled back with the test."""
    only = f" AND NEW.id = {int(trip_id)}" if trip_id is not None else ""
    with connection.cursor() as cursor:
        cursor.execute(f"""
            CREATE FUNCTION refuse_trip_close() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'trip close refused'; END $$;
            CREATE TRIGGER refuse_trip_close BEFORE UPDATE ON {Trip._meta.db_table} FOR EACH ROW
            WHEN (NEW.is_closed AND NOT OLD.is_closed{only}) EXECUTE FUNCTION refuse_trip_close();
        """)


def test_an_idle_sweep_is_sampled_at_one_percent(sampled_events) -> None:
    assert sweep(sampled_events, trace_id=UNLUCKY) is None
    event = sweep(sampled_events, trace_id=LUCKY)
    assert event is not None and event["business"] == {} and event["success"] is True
    assert event["trips"] == {"stale_found": 0, "finalized": 0}
    assert {k: event["sampling"][k] for k in ("reason", "rate", "sample_rate")} == {
        "reason": "operation_rate", "rate": 0.01, "sample_rate": 100.0}


def test_a_sweep_that_finalized_a_trip_is_kept(volt, upload, sampled_events) -> None:
    trip = stale_trip(upload, volt.token)
    event = sweep(sampled_events, trace_id=UNLUCKY)
    assert event is not None and event["business"] == {"trip_finalized": True}
    assert (event["sampling"]["reason"], event["trips"]["finalized"]) == ("critical_event", 1)
    trip.refresh_from_db()
    assert trip.is_closed is True


def test_a_sweep_that_closed_a_charging_session_is_kept(volt, upload, sampled_events) -> None:
    for params in charge_readings(ChargePlan(session="sw-2", start=START, start_soc=80, step_seconds=60)):
        assert upload(volt.token, params).content == b"OK!"
    ChargingSession.objects.update(last_received_at=timezone.now() - timedelta(hours=1))  # the trip stays fresh
    event = sweep(sampled_events, trace_id=UNLUCKY)
    assert event is not None and event["business"] == {"charging_session_closed": True}
    assert (event["sampling"]["reason"], event["charging"]) == ("critical_event", {"stale_sessions_closed": 1})
    assert ChargingSession.objects.get().closed_reason == "stale"


def test_a_sweep_that_queued_weather_is_kept(volt, settings, sampled_events) -> None:
    settings.FEATURE_FLAGS = {**settings.FEATURE_FLAGS, "weather_integration": True}
    trip = trip_make(volt.vehicle, timezone.now() - timedelta(hours=6))
    Trip.objects.filter(pk=trip.pk).update(finalized_at=timezone.now() - timedelta(hours=5))
    event = sweep(sampled_events, trace_id=UNLUCKY)  # the queued task waits for a commit that never comes
    assert event is not None and event["business"] == {"weather_catch_up_queued": True}
    assert (event["sampling"]["reason"], event["weather"]) == ("critical_event", {"catch_up_queued": 1})


def test_a_sweep_whose_finalization_fails_is_kept(volt, upload, sampled_events) -> None:
    trip = stale_trip(upload, volt.token)
    trip_close_refused()
    event = sweep(sampled_events, trace_id=UNLUCKY)
    assert event is not None and event["success"] is False and event["business"] == {}
    assert (event["sampling"]["reason"], event["trips"]) == ("error", {"failed": [trip.pk], "stale_found": 1,
                                                                        "finalized": 0})
    assert (event["error"]["code"], event["error"]["type"]) == ("E202", "InternalError")
    trip.refresh_from_db()
    assert trip.is_closed is False


def test_a_failed_finalization_leaves_no_facts_of_its_rolled_back_writes(volt, new_vehicle, upload,
                                                                          sampled_events) -> None:
    charge = ChargePlan(session="sw-3", start=EVENING, start_soc=60, end_soc=80, step_seconds=60)
    drive = DrivePlan(session="sw-3", start=EVENING + timedelta(seconds=charge.charge_seconds + 120),
                      start_odometer_miles=charge.odometer_miles,
                      electric_miles=2, gas_miles=0)
    # Newest first, no session opens: the replay at finalization stores the charge, then the trip UPDATE fails.
    for params in reversed([*charge_readings(charge), *drive_readings(drive)]):
        assert upload(volt.token, params).content == b"OK!"
    other = new_vehicle("Other")
    for params in list(drive_readings(DrivePlan(session="sw-4", start=START, gas_miles=0.0)))[:4]:
        assert upload(other.token, params).content == b"OK!"
    Trip.objects.update(last_received_at=timezone.now() - timedelta(hours=1))
    failing, finalized = Trip.objects.get(vehicle=volt.vehicle), Trip.objects.get(vehicle=other.vehicle)
    trip_close_refused(failing.pk)

    event = sweep(sampled_events, trace_id=UNLUCKY)
    assert event is not None and event["success"] is False
    assert (event["error"]["code"], event["error"]["type"]) == ("E202", "InternalError")
    assert event["business"] == {"trip_finalized": True}  # the other trip's; no charging_session_started
    assert event["charging"] == {"stale_sessions_closed": 0}  # no `replayed`: that session was rolled back
    assert event["trips"] == {"failed": [failing.pk], "stale_found": 2, "finalized": 1}
    assert event["trip"]["id"] == finalized.pk
    assert ChargingSession.objects.count() == 0
    failing.refresh_from_db()
    finalized.refresh_from_db()
    assert (failing.is_closed, finalized.is_closed) == (False, True)
