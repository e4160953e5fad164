"""A session with a gap no drive has is split there, as Torque would have split it had it restarted.

The real logs show why (../shared/realdata/README.md): Torque kept one session open in a parked car
overnight, so one "session" held two drives ten hours apart.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.models import Reading, Trip
from telemetry.tasks import trip_finalize_task
from telemetry.trips import trip_finalize

pytestmark = pytest.mark.django_db
START = datetime(2026, 7, 7, 7, 0, tzinfo=UTC)


def _drive(session: str, start: datetime, miles: float, odometer: float) -> list[dict[str, str]]:
    plan = DrivePlan(session=session, start=start, electric_miles=miles, gas_miles=0,
                     start_odometer_miles=odometer)
    return list(drive_readings(plan))


def _upload_all(upload, token: str, readings: list[dict[str, str]]) -> None:
    for params in readings:
        assert upload(token, params).content == b"OK!"


def test_a_gap_longer_than_the_stale_window_makes_two_trips(volt, upload, wide_events) -> None:
    morning = _drive("one-session", START, 6, 12_000)
    evening = _drive("one-session", START + timedelta(hours=10), 4, 12_006)
    _upload_all(upload, volt.token, morning + evening)
    [trip] = Trip.objects.all()
    wide_events.lines.clear()

    trip_finalize_task.apply(args=(trip.pk,))  # as the worker runs it, with its event

    first, second = Trip.objects.order_by("started_at")
    assert first.pk == trip.pk
    assert first.is_closed and second.is_closed
    assert (first.reading_count, second.reading_count) == (len(morning), len(evening))
    assert Reading.objects.filter(trip=first).count() == len(morning)
    assert Reading.objects.filter(trip=second).count() == len(evening)
    assert first.distance_miles == pytest.approx(6.0, abs=0.1)
    assert second.distance_miles == pytest.approx(4.0, abs=0.1)
    assert first.ended_at is not None and first.ended_at < second.started_at and second.started_at == START + timedelta(hours=10)
    assert second.session == first.session and second.trip_key != first.trip_key
    [event] = [e for e in wide_events.events if e["operation"] == "trip_finalize"]
    assert event["trip"]["id"] == first.pk and event["trip"]["split_off"] == [second.pk]
    assert event["trip"]["distance_miles"] == first.distance_miles


def test_two_gaps_make_three_trips_and_short_pauses_do_not_split(volt, upload) -> None:
    readings = (_drive("s", START, 2, 100) + _drive("s", START + timedelta(hours=3), 2, 102)
                + _drive("s", START + timedelta(hours=6), 2, 104))
    _upload_all(upload, volt.token, readings)
    with override_settings(TRIP_SPLIT_GAP_SECONDS=4 * 3600):  # a longer split gap tolerates the pauses
        trip_finalize(trip_id=Trip.objects.get().pk)
    assert Trip.objects.count() == 1

    Trip.objects.update(is_closed=False)
    trip_finalize(trip_id=Trip.objects.get().pk)
    trips = list(Trip.objects.order_by("started_at"))
    assert [t.distance_miles for t in trips] == [pytest.approx(2.0, abs=0.1)] * 3
    assert sum(t.reading_count for t in trips) == len(readings) == Reading.objects.count()
    assert all(t.is_closed for t in trips)


def test_a_late_reading_of_the_later_part_joins_the_trip_already_split_off(volt, upload) -> None:
    morning = _drive("late", START, 3, 500)
    evening = _drive("late", START + timedelta(hours=8), 3, 503)
    _upload_all(upload, volt.token, morning + evening[:-5])
    trip_finalize(trip_id=Trip.objects.get().pk)
    first, second = Trip.objects.order_by("started_at")

    _upload_all(upload, volt.token, evening[-5:])  # uploads find the session's first trip and reopen it
    first.refresh_from_db()
    assert first.is_closed is False
    trip_finalize(trip_id=first.pk)

    assert Trip.objects.count() == 2
    second.refresh_from_db()
    assert second.is_closed and second.reading_count == len(evening)
    assert second.distance_miles == pytest.approx(3.0, abs=0.1)
    first.refresh_from_db()
    assert first.reading_count == len(morning)


def test_readings_lost_in_a_dead_zone_mid_drive_do_not_split_the_trip(volt, upload) -> None:
    readings = _drive("tunnel", START, 10, 7_000)
    lost = [r for r in readings if not 300 <= (int(r["time"]) - int(readings[0]["time"])) / 1000 < 900]
    assert len(readings) - len(lost) == 60  # ten minutes of 10-second readings never arrived
    _upload_all(upload, volt.token, lost)
    trip_finalize(trip_id=Trip.objects.get().pk)
    [trip] = Trip.objects.all()
    assert trip.is_closed and trip.distance_miles == pytest.approx(10.0, abs=0.1)


def test_finalizing_reads_each_trips_readings_once(volt, upload) -> None:
    _upload_all(upload, volt.token, _drive("once", START, 2, 100) + _drive("once", START + timedelta(hours=3), 2, 102))
    [trip] = Trip.objects.all()
    table = Reading._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        trip_finalize(trip_id=trip.pk)
    reads = [q["sql"] for q in queries if q["sql"].startswith("SELECT") and f'FROM "{table}"' in q["sql"]
             and "COUNT(" not in q["sql"]]
    # One per trip: the gap split and the figures share it (the split counts the readings it kept).
    assert len(reads) == 2 and Trip.objects.filter(is_closed=True).count() == 2
