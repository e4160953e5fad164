"""Lifetime kWh charged, charging sessions and MPG per tank in the set-based refresh, on known rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from telemetry.models import ChargingSession, Refuel, Vehicle, VehicleStats
from telemetry.stats import vehicle_stats_refresh, vehicle_stats_refresh_all

pytestmark = pytest.mark.django_db
DAY0 = datetime(2026, 2, 1, 19, 0, tzinfo=UTC)


def charge_make(vehicle: Vehicle, day: int, kwh: float | None, *, complete: bool = True) -> ChargingSession:
    start = DAY0 + timedelta(days=day)
    return ChargingSession.objects.create(
        vehicle=vehicle, started_at=start, ended_at=start + timedelta(hours=4), last_reading_at=start,
        last_received_at=start, kwh_added=kwh, is_complete=complete,
    )


def refuel_make(vehicle: Vehicle, day: int, odometer: float | None, before: float, after: float) -> Refuel:
    return Refuel.objects.create(
        vehicle=vehicle, detected_at=DAY0 + timedelta(days=day), odometer_miles=odometer, level_before=before,
        level_after=after, gallons_added=round((after - before) / 100 * vehicle.fuel_tank_gallons, 3),
    )


def stats_of(vehicle: Vehicle) -> VehicleStats:
    return VehicleStats.objects.get(vehicle=vehicle)


def test_charging_totals_count_open_and_unmeasured_sessions(volt, new_vehicle) -> None:
    v, other = volt.vehicle, new_vehicle("Neighbour").vehicle
    charge_make(v, 0, 10.5)
    charge_make(v, 1, 7.25)
    charge_make(v, 2, None)  # opened, nothing measured yet: a session, 0 kWh
    charge_make(v, 3, 3.0, complete=False)  # still charging: counts with its kWh so far
    charge_make(other, 0, 40.0)
    vehicle_stats_refresh(vehicle_id=v.pk)
    s = stats_of(v)
    assert (s.charging_sessions, s.kwh_charged) == (4, pytest.approx(20.75))


def test_tank_mpg_last_and_lifetime_average(volt) -> None:
    v = volt.vehicle  # 8.9 gallon tank
    refuel_make(v, 0, 20_000, 30, 95)
    refuel_make(v, 10, 20_400, 45, 100)  # tank 1: 400 mi on (95-45)% = 4.45 gal -> 89.9 mpg
    refuel_make(v, 20, None, 50, 90)  # tank 2: no odometer at the pump -> no MPG
    refuel_make(v, 30, 21_000, 20, 80)  # tank 3: odometer missing on its start -> no MPG
    refuel_make(v, 40, 21_350, 30, 95)  # tank 4: 350 mi on 50% = 4.45 gal -> 78.7 mpg
    vehicle_stats_refresh(vehicle_id=v.pk)
    s = stats_of(v)
    assert s.tanks_measured == 2
    assert s.last_tank_mpg == pytest.approx(350 / 4.45)
    assert s.avg_tank_mpg == pytest.approx(750 / 8.9)  # miles over gallons of measured tanks, not a mean of ratios


def test_tank_rules_going_backwards_or_no_fuel_used_give_no_mpg(volt, new_vehicle) -> None:
    v = volt.vehicle
    refuel_make(v, 0, 5_000, 20, 90)
    refuel_make(v, 5, 4_900, 40, 90)  # odometer went backwards (another phone): no MPG
    refuel_make(v, 9, 5_100, 95, 99)  # level above the last fill (sender noise): no fuel used, no MPG
    one = new_vehicle("One refuel").vehicle
    refuel_make(one, 0, 1_000, 10, 90)  # one refuel is no tank yet
    vehicle_stats_refresh_all()
    for vehicle in (v, one):
        s = stats_of(vehicle)
        assert (s.tanks_measured, s.last_tank_mpg, s.avg_tank_mpg) == (0, None, None)


def test_tank_fuel_is_from_levels_not_fill_volumes(volt) -> None:
    v = volt.vehicle  # 8.9 gallon tank
    refuel_make(v, 0, 1000.0, 20.0, 100.0)
    refuel_make(v, 10, 1400.0, 50.0, 90.0)  # used 50 % of the tank over 400 miles; filled only 40 %
    refuel_make(v, 20, None, 10.0, 95.0)  # no odometer: that tank is not measured
    vehicle_stats_refresh(vehicle_id=v.pk)
    s = stats_of(v)
    assert s.tanks_measured == 1
    assert s.last_tank_mpg == s.avg_tank_mpg == pytest.approx(400 / 4.45)  # not 400 / 3.56 (the fill)


def test_vehicle_without_charges_or_refuels_has_zeros_and_empty_mpg(volt) -> None:
    vehicle_stats_refresh(vehicle_id=volt.vehicle.pk)
    s = stats_of(volt.vehicle)
    assert (s.kwh_charged, s.charging_sessions, s.tanks_measured, s.last_tank_mpg, s.avg_tank_mpg) == (
        0, 0, 0, None, None)


def test_all_vehicles_path_keeps_vehicles_apart(volt, new_vehicle) -> None:
    a, b = volt.vehicle, new_vehicle("B").vehicle
    charge_make(a, 0, 5.0)
    charge_make(b, 0, 9.0)
    charge_make(b, 1, 1.0)
    for day, odo, before, after in ((0, 100, 10, 90), (7, 400, 40, 90)):
        refuel_make(b, day, odo, before, after)
    summary = vehicle_stats_refresh_all(chunk=1)  # one statement per vehicle: ranges must not leak
    assert summary.statements == 2
    sa, sb = stats_of(a), stats_of(b)
    assert (sa.charging_sessions, sa.kwh_charged, sa.tanks_measured) == (1, 5.0, 0)
    assert (sb.charging_sessions, sb.kwh_charged, sb.tanks_measured) == (2, 10.0, 1)
    assert sb.last_tank_mpg == sb.avg_tank_mpg == pytest.approx(300 / (0.5 * 8.9))


def test_stats_api_and_event_context_show_the_figures(client, volt, wide_events) -> None:
    v = volt.vehicle
    charge_make(v, 0, 12.34)
    refuel_make(v, 0, 20_000, 30, 95)
    refuel_make(v, 10, 20_400, 45, 100)
    vehicle_stats_refresh(vehicle_id=v.pk)
    body = client.get(f"/api/vehicles/{v.pk}/stats/", headers={"Authorization": f"Bearer {volt.token}"}).json()
    assert (body["kwh_charged"], body["charging_sessions"], body["avg_tank_mpg"]) == (12.3, 1, 89.9)
    assert (body["last_tank_mpg"], body["tanks_measured"]) == (89.9, 1)  # 400 / 4.45, to 0.1 mpg
    event = next(e for e in wide_events.events if e["operation"] == "vehicle_stats")
    assert {k: event["vehicle"][k] for k in ("kwh_charged", "charging_sessions", "avg_tank_mpg")} == {
        "kwh_charged": 12.3, "charging_sessions": 1, "avg_tank_mpg": 89.9}
