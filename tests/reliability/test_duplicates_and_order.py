"""Torque retries and out-of-order delivery: every reading stored once, trips equal to an in-order upload."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest

from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.models import Reading, Trip
from telemetry.trips import trip_finalize
from telemetry.vehicles import vehicle_create
from telemetry.views import TRIP_FIELDS

pytestmark = pytest.mark.django_db
START = datetime(2026, 9, 9, 7, 30, tzinfo=UTC)
FIGURES = tuple(name for name in TRIP_FIELDS if not name.startswith("weather_") and name != "extreme_weather") + (
    "reading_count", "start_soc", "end_soc", "distance_source", "battery_capacity_kwh")


def trip_figures(vehicle_id: int) -> list[dict[str, Any]]:
    trips = []
    for trip in Trip.objects.filter(vehicle_id=vehicle_id).order_by("started_at"):
        trip_finalize(trip_id=trip.pk)
        trip.refresh_from_db()
        trips.append({name: getattr(trip, name) for name in FIGURES})
    return trips


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shuffled_and_repeated_uploads_give_the_in_order_trips(upload, seed: int) -> None:
    rng = random.Random(seed)
    plans = [DrivePlan(session="dup-1", start=START, electric_miles=6, gas_miles=4, step_seconds=15),
             DrivePlan(session="dup-2", start=START.replace(hour=17), electric_miles=3, gas_miles=0, step_seconds=15,
                       start_odometer_miles=12_010)]
    readings = [params for plan in plans for params in drive_readings(plan)]
    in_order, messy = vehicle_create(name="In order"), vehicle_create(name="Messy")
    for params in readings:
        assert upload(in_order.token, params).content == b"OK!"

    # Each trip's readings arrive shuffled within the trip (Torque flushes its queue in any order),
    # a third of them twice; the trips themselves arrive one after the other.
    for plan in plans:
        mine = [p for p in readings if p["session"] == plan.session]
        sent = mine + rng.sample(mine, len(mine) // 3)
        rng.shuffle(sent)
        for params in sent:
            assert upload(messy.token, params).content == b"OK!"

    assert Reading.objects.filter(vehicle=messy.vehicle).count() == len(readings)
    expected, got = trip_figures(in_order.vehicle.pk), trip_figures(messy.vehicle.pk)
    assert len(got) == 2 and got[0]["gas_miles"] > 1.0  # the comparison covers a gas phase
    assert got == expected
