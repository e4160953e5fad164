"""Trip finalization through the real broker and a real worker process."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.models import Trip

START = datetime(2026, 6, 1, 7, 0, tzinfo=UTC)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_new_session_finalizes_previous_trip_through_the_worker(volt, upload, live_worker) -> None:
    for params in drive_readings(DrivePlan(session="w-1", start=START, electric_miles=3, gas_miles=0)):
        assert upload(volt.token, params).content == b"OK!"
    first = Trip.objects.get(session="w-1")
    later = DrivePlan(session="w-2", start=START.replace(hour=12), electric_miles=1, gas_miles=0,
                      start_odometer_miles=12_003)
    assert upload(volt.token, next(drive_readings(later))).content == b"OK!"

    live_worker.wait_until(lambda: Trip.objects.get(pk=first.pk).is_closed, "finalization of w-1")
    first.refresh_from_db()
    assert first.is_closed
    assert first.distance_miles == pytest.approx(3.0, abs=0.05)
    assert Trip.objects.get(session="w-2").is_closed is False
