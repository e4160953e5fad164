"""Statistics refreshed through the real broker: finalization queues the vehicle's refresh on commit."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.models import BatteryHealthSample, Trip, VehicleStats

START = datetime(2026, 7, 1, 7, 0, tzinfo=UTC)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_finalized_trip_refreshes_the_vehicle_stats_through_the_worker(volt, upload, live_worker) -> None:
    for params in drive_readings(DrivePlan(session="s-1", start=START, electric_miles=4, gas_miles=0)):
        assert upload(volt.token, params).content == b"OK!"
    assert not VehicleStats.objects.exists()
    # A new session makes the worker finalize s-1, which queues the refresh of this vehicle.
    later = DrivePlan(session="s-2", start=START.replace(hour=12), electric_miles=1, gas_miles=0,
                      start_odometer_miles=12_004)
    assert upload(volt.token, next(drive_readings(later))).content == b"OK!"

    refreshed = VehicleStats.objects.filter(vehicle=volt.vehicle, total_trips=1)
    live_worker.wait_until(refreshed.exists, "the statistics refresh")
    stats = refreshed.get()
    first = Trip.objects.get(session="s-1")
    assert first.is_closed
    assert stats.total_miles == pytest.approx(first.distance_miles) and stats.total_miles == pytest.approx(4, abs=0.1)
    assert (stats.battery_capacity_kwh, stats.capacity_is_estimate, stats.capacity_samples) == (16.2, False, 1)
    assert stats.first_trip_at == first.started_at
    assert BatteryHealthSample.objects.get().trip_id == first.pk
    # The worker ran it (the start-up banner lists every task name, so the name alone proves nothing).
    assert re.search(r"Task telemetry\.tasks\.vehicle_stats_refresh\[[0-9a-f-]{36}\] succeeded", live_worker.log())
