"""Refuels detected from real uploads, across trips, against the real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import cycle

import pytest

from logging_policy.current import event_bound
from logging_policy.events import WideEvent
from logging_policy.sampling import decide, default_policy
from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.models import Refuel, Trip, VehicleStats
from telemetry.stats import vehicle_stats_refresh
from telemetry.trips import trip_finalize

pytestmark = pytest.mark.django_db
MORNING = datetime(2026, 4, 6, 7, 30, tzinfo=UTC)
# Levels are compared only while the car stands (telemetry/refuel_core.py): each drive stands for a
# minute before setting off and after arriving, as real ones do.
STANDING = 3
SET_OFF = timedelta(seconds=20 * STANDING)


def drive(upload, token: str, session: str, start: datetime, fuel: float, odometer: float = 12_000.0,
          slosh: list[float] | None = None) -> list[dict[str, str]]:
    plan = DrivePlan(session=session, start=start, electric_miles=2, gas_miles=0, start_fuel_pct=fuel,
                     start_odometer_miles=odometer, step_seconds=20, standing_readings=STANDING)
    offsets = cycle(slosh or [0.0])
    sent = []
    for params in drive_readings(plan):
        params = {**params, "k22002f": f"{fuel + next(offsets):.6g}"}
        assert upload(token, params).content == b"OK!"
        sent.append(params)
    return sent


def test_refuel_across_two_trips_is_detected_once_with_the_right_gallons(volt, upload) -> None:
    drive(upload, volt.token, "r-1", MORNING, fuel=30.0)
    second = drive(upload, volt.token, "r-2", MORNING + timedelta(hours=9), fuel=95.0, odometer=12_002.0)
    for params in second:  # Torque retrying every upload of the second trip
        upload(volt.token, params)
    refuel = Refuel.objects.get()
    assert (refuel.level_before, refuel.level_after) == (30.0, 95.0)
    assert refuel.gallons_added == pytest.approx(8.9 * 0.65, abs=0.01)
    assert refuel.detected_at == MORNING + timedelta(hours=9) - SET_OFF  # the first reading of the second trip
    assert refuel.odometer_miles == pytest.approx(12_002.0, abs=0.1)
    assert refuel.vehicle_id == volt.vehicle.pk


def test_fuel_slosh_of_four_points_is_never_a_refuel(volt, upload) -> None:
    drive(upload, volt.token, "s-1", MORNING, fuel=60.0, slosh=[-4.0, -4.0, -4.0, 4.0, 4.0, 4.0])
    drive(upload, volt.token, "s-2", MORNING + timedelta(hours=2), fuel=60.0, odometer=12_002.0, slosh=[4.0, -4.0])
    drive(upload, volt.token, "s-3", MORNING + timedelta(hours=4), fuel=60.0, odometer=12_004.0,
          slosh=[4.0, 4.0, -4.0])
    assert Refuel.objects.count() == 0


def test_refuel_is_a_business_fact_kept_by_the_default_policy(volt, upload, wide_events) -> None:
    drive(upload, volt.token, "e-1", MORNING, fuel=30.0)
    drive(upload, volt.token, "e-2", MORNING + timedelta(hours=9), fuel=95.0, odometer=12_002.0)
    with_fact = [e for e in wide_events.events if e["business"].get("refuel_detected")]
    assert len(with_fact) == 1
    event = with_fact[0]
    assert event["business"] == {"refuel_detected": True}
    assert event["refuel"]["gallons_added"] == pytest.approx(5.785, abs=0.01)
    assert event["refuel"]["id"] == Refuel.objects.get().pk
    decision = decide(default_policy(), event)
    assert decision.keep and decision.reason == "critical_event"


def test_mpg_per_tank(volt, upload) -> None:
    drive(upload, volt.token, "m-1", MORNING, fuel=20.0)
    drive(upload, volt.token, "m-2", MORNING + timedelta(days=1), fuel=100.0, odometer=12_100.0)
    drive(upload, volt.token, "m-3", MORNING + timedelta(days=9), fuel=50.0, odometer=12_500.0)
    drive(upload, volt.token, "m-4", MORNING + timedelta(days=10), fuel=90.0, odometer=12_510.0)
    vehicle_stats_refresh(vehicle_id=volt.vehicle.pk)
    stats = VehicleStats.objects.get(vehicle=volt.vehicle)
    assert stats.tanks_measured == 1  # refuels in m-2 and m-4: one tank between them
    # 410 miles on half the 8.9 gallon tank, as the refuels' odometers and settled levels say.
    assert stats.last_tank_mpg == stats.avg_tank_mpg == pytest.approx(410 / 4.45, abs=0.2)


def reversed_drive(upload, token: str, session: str, start: datetime, fuel: float, odometer: float) -> None:
    plan = DrivePlan(session=session, start=start, electric_miles=2, gas_miles=0, start_fuel_pct=fuel,
                     start_odometer_miles=odometer, step_seconds=20, standing_readings=STANDING)
    for params in reversed(list(drive_readings(plan))):  # Torque flushing its queue newest first
        assert upload(token, {**params, "k22002f": f"{fuel:.6g}"}).content == b"OK!"


def test_refuel_hidden_by_out_of_order_uploads_is_found_at_finalization(volt, upload) -> None:
    drive(upload, volt.token, "o-1", MORNING, fuel=30.0)
    reversed_drive(upload, volt.token, "o-2", MORNING + timedelta(hours=9), fuel=95.0, odometer=12_002.0)
    assert Refuel.objects.count() == 0  # the uploads alone cannot see it
    trip = Trip.objects.get(session="o-2")
    event = WideEvent(operation="trip_finalize", kind="task")
    with event_bound(event):
        trip_finalize(trip_id=trip.pk)
    refuel = Refuel.objects.get()
    assert (refuel.level_before, refuel.level_after, refuel.trip_id) == (30.0, 95.0, trip.pk)
    assert refuel.gallons_added == pytest.approx(8.9 * 0.65, abs=0.01)
    assert refuel.detected_at == MORNING + timedelta(hours=9) - SET_OFF
    assert event.data["business"]["refuel_detected"] is True and event.data["refuel"]["replayed"] is True
    Trip.objects.filter(pk=trip.pk).update(is_closed=False)
    trip_finalize(trip_id=trip.pk)  # finalizing again (a reopened trip) stores nothing twice
    assert Refuel.objects.count() == 1


def test_finalization_does_not_repeat_a_refuel_the_uploads_found(volt, upload) -> None:
    drive(upload, volt.token, "f-1", MORNING, fuel=30.0)
    drive(upload, volt.token, "f-2", MORNING + timedelta(hours=9), fuel=95.0, odometer=12_002.0)
    trip_finalize(trip_id=Trip.objects.get(session="f-2").pk)
    assert Refuel.objects.count() == 1
