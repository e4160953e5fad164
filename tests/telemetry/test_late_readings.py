"""Readings that arrive late: after their trip was finalized, or from a session older than the open one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.models import Trip
from telemetry.trips import trip_finalize

pytestmark = pytest.mark.django_db
START = datetime(2026, 7, 7, 7, 0, tzinfo=UTC)


def test_a_reading_after_finalization_reopens_the_trip_and_refinalizing_counts_it(volt, upload, wide_events) -> None:
    readings = list(drive_readings(DrivePlan(session="late-1", start=START, electric_miles=10, gas_miles=0)))
    half = len(readings) // 2
    for params in readings[:half]:
        assert upload(volt.token, params).content == b"OK!"
    trip = Trip.objects.get()
    trip_finalize(trip_id=trip.pk)
    trip.refresh_from_db()
    assert trip.is_closed and trip.distance_miles == pytest.approx(5.0, abs=0.1)

    wide_events.lines.clear()
    for params in readings[half:]:  # the phone was offline past the stale window
        assert upload(volt.token, params).content == b"OK!"
    trip.refresh_from_db()
    assert trip.is_closed is False and trip.reading_count == len(readings)
    assert wide_events.events[0]["trip"]["reopened"] is True

    trip_finalize(trip_id=trip.pk)
    trip.refresh_from_db()
    assert trip.is_closed and trip.distance_miles == pytest.approx(10.0, abs=0.1)
    assert trip.ended_at == START + timedelta(seconds=DrivePlan(session="x", start=START, electric_miles=10,
                                                                   gas_miles=0).electric_seconds)


def test_a_late_older_session_does_not_end_the_trip_being_driven(volt, upload, wide_events) -> None:
    now_drive = DrivePlan(session="now", start=START + timedelta(hours=5), electric_miles=2, gas_miles=0)
    older = DrivePlan(session="older", start=START, electric_miles=2, gas_miles=0)
    upload(volt.token, next(drive_readings(now_drive)))
    wide_events.lines.clear()
    assert upload(volt.token, next(drive_readings(older))).content == b"OK!"
    [event] = wide_events.events
    assert event["trip"]["created"] is True and event["trip"]["previous_trips_closed"] == 0
    assert "tasks" not in event  # no finalization of the trip being driven was queued
    assert Trip.objects.get(session="now").is_closed is False
