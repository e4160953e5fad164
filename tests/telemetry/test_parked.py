"""The parked detectors' one rule for one reading (telemetry/parked.py): pure, no database."""

from __future__ import annotations

from datetime import UTC, datetime

from telemetry.models import Trip
from telemetry.parked import parked_step, parked_step_without_queries
from telemetry.refuel_core import FuelWindow

AT = datetime(2026, 2, 1, 19, 0, tzinfo=UTC)
DRIVING = {"speed_mph": 35.0, "volt_fuel_level_pct": 60.0, "odometer_miles": 12_000.0}
CHARGING = {"speed_mph": 0.0, "charger_status": 1.0, "charger_power_kw": 3.3}


def test_a_drive_moves_only_the_fuel_window() -> None:
    step = parked_step(fuel_window=[], session_linked=False, at=AT, values=DRIVING)
    assert (step.signal.kind, step.refuel, step.writes_rows) == ("moving", None, False)
    assert step.fuel_window == []  # a moving car's level is not read (sloshing)
    assert parked_step_without_queries(trip=Trip(fuel_window=[]), at=AT, values=DRIVING, new_trip=False) == {
        "fuel_window": []}


def test_a_charge_or_a_linked_session_writes_rows() -> None:
    charging = parked_step(fuel_window=[], session_linked=False, at=AT, values=CHARGING)
    assert (charging.signal.kind, charging.fuel_window, charging.writes_rows) == ("charging", None, True)
    linked = parked_step(fuel_window=[], session_linked=True, at=AT, values=DRIVING)
    assert linked.writes_rows is True  # driving off closes the session
    trip = Trip(fuel_window=[], charging_session_id=7)
    assert parked_step_without_queries(trip=trip, at=AT, values=DRIVING, new_trip=False) is None


def test_a_settled_rise_is_a_refuel_to_store() -> None:
    before: FuelWindow = [[AT.timestamp() * 1000 - 60_000, 20.0, 11_990.0, 1.0]]  # the reference: 20 %, settled
    standing = {"speed_mph": 0.0, "volt_fuel_level_pct": 95.0}
    window = before
    for second in (0, 5, 10):
        at = AT.replace(second=second)
        step = parked_step(fuel_window=window, session_linked=False, at=at, values=standing)
        assert step.fuel_window is not None
        window = step.fuel_window
    assert step.refuel is not None and (step.refuel.level_before, step.refuel.level_after) == (20.0, 95.0)
    assert step.writes_rows is True


def test_a_new_trip_waits_for_its_inheritance() -> None:
    assert parked_step_without_queries(trip=Trip(fuel_window=[]), at=AT, values=DRIVING, new_trip=True) is None
