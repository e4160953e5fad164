"""Impossible times and trips (issue 16, item 6): the future is refused, an impossible trip kept out of stats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.models import Reading, Trip, VehicleStats
from telemetry.stats import vehicle_stats_refresh
from telemetry.tracklog import tracklog_parse
from telemetry.tracklog_import import tracklog_import
from telemetry.tracklog_sim import LogStyle, tracklog_csv
from telemetry.trips import trip_finalize

pytestmark = pytest.mark.django_db


def _reading(session: str, at: datetime) -> dict[str, str]:
    return {**next(drive_readings(DrivePlan(session=session, start=at))), "time": str(int(at.timestamp() * 1000))}


def test_a_reading_from_the_future_is_refused_within_the_allowance_it_is_stored(volt, upload, settings) -> None:
    settings.READING_FUTURE_ALLOWANCE_SECONDS = 900
    now = timezone.now()
    late = upload(volt.token, _reading("f", now + timedelta(hours=1)))
    assert late.status_code == 400 and late.json()["error"]["code"] == "E306"
    assert upload(volt.token, _reading("f", now + timedelta(minutes=10))).content == b"OK!"
    assert Reading.objects.filter(vehicle=volt.vehicle).count() == 1


def test_a_session_from_2000_to_now_is_split_and_a_teleport_is_implausible(volt, upload) -> None:
    # The attacker's session: readings dated 2000 and 2100 (the second is refused), then now, with the
    # odometer 5.2 million miles on. The 26-year gap splits it: two lone readings, neither a drive.
    for at in (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC), timezone.now()):
        upload(volt.token, {**_reading("garbage", at), "ka6": str(1.609344 * (1_000 + (at.year - 2000) * 200_000))})
    # A session whose odometer jumps 3,000 miles between readings a minute apart: no gap to split at.
    # (Odometers rise along the vehicle's timeline, or E309 would refuse them: docs/units.md.)
    start = timezone.now() - timedelta(hours=5)
    for minute, miles in ((0, 2_000), (1, 5_000), (2, 5_001)):
        at = start + timedelta(minutes=minute)
        assert upload(volt.token, {**_reading("teleport", at), "ka6": str(1.609344 * miles)}).content == b"OK!"
    drive = list(drive_readings(DrivePlan(session="real", start=timezone.now() - timedelta(hours=3),
                                          electric_miles=5, gas_miles=0)))
    for params in drive:
        assert upload(volt.token, params).content == b"OK!"
    for trip in Trip.objects.filter(vehicle=volt.vehicle):
        trip_finalize(trip_id=trip.pk)

    old, new = Trip.objects.filter(session="garbage").order_by("started_at")
    assert (old.reading_count, new.reading_count) == (1, 1)
    assert old.started_at.year == 2000 and old.is_drive is False and new.is_drive is False
    teleport, real = Trip.objects.get(session="teleport"), Trip.objects.get(session="real")
    assert teleport.is_plausible is False and teleport.distance_miles == pytest.approx(3001)  # shown, not counted
    assert "implausible" in teleport.notes["trip"] and "E403" in teleport.notes["trip"]
    assert real.is_plausible is True and "trip" not in real.notes
    vehicle_stats_refresh(vehicle_id=volt.vehicle.pk)
    stats = VehicleStats.objects.get(vehicle=volt.vehicle)
    assert stats.total_trips == 1 and stats.total_miles == pytest.approx(5.0, abs=0.05)
    assert stats.first_trip_at == real.started_at


def test_an_imported_row_from_the_future_is_skipped_and_counted(volt) -> None:
    start = timezone.now() - timedelta(minutes=10)
    drive = list(drive_readings(DrivePlan(session="x", start=start, electric_miles=1, gas_miles=0, step_seconds=30)))
    drive[-1]["time"] = str(int((timezone.now() + timedelta(days=2)).timestamp() * 1000))
    data = tracklog_csv(drive, LogStyle(units="metric")).encode()
    assert len(list(tracklog_parse(data))) == len(drive)
    result = tracklog_import(vehicle=volt.vehicle, data=data, name="future.csv")
    assert result.stored == len(drive) - 1 and result.rejected == {"time_in_future": 1}
