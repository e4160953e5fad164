"""Gas-mode detection and trip figures over synthetic drives (pure: no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.gasmode import GasState, gas_mode_step
from telemetry.torque import parse_upload
from telemetry.trip_metrics import Sample, trip_metrics_compute

START = datetime(2026, 1, 15, 7, 30, tzinfo=UTC)


def run(plan: DrivePlan) -> tuple[GasState, list[Sample]]:
    state = GasState()
    samples = []
    for params in drive_readings(plan):
        v = parse_upload(params).values
        at = parse_upload(params).recorded_at
        assert at is not None
        state = gas_mode_step(state, at, v.get("engine_rpm"), v.get("soc_pct"))
        samples.append(Sample(at=at, odometer_miles=v.get("odometer_miles"),
                              trip_distance_miles=v.get("trip_distance_miles"), speed_mph=v.get("speed_mph"),
                              hv_power_kw=v.get("hv_power_kw"), soc_pct=v.get("soc_pct"),
                              trip_fuel_gallons=v.get("trip_fuel_gallons"),
                              fuel_level_pct=v.get("volt_fuel_level_pct"), ambient_temp_f=v.get("ambient_temp_f"),
                              battery_capacity_kwh=v.get("battery_capacity_kwh")))
    return state, samples


def compute(plan: DrivePlan, state: GasState, samples: list[Sample]):
    return trip_metrics_compute(samples, gas_entered_at=state.entered_at, soc_at_gas_entry=state.soc_at_entry,
                                soc_span_kwh=plan.usable_kwh, tank_gallons=plan.tank_gallons)


def test_electric_then_gas_drive_splits_energy_and_fuel() -> None:
    plan = DrivePlan(session="s1", start=START)  # 30 mi electric at 0.28 kWh/mi, then 20 mi at 40 mpg
    state, samples = run(plan)
    assert state.entered_at == START + timedelta(seconds=plan.electric_seconds + plan.step_seconds)
    assert state.soc_at_entry == pytest.approx(plan.floor_soc, abs=0.1)
    m = compute(plan, state, samples)
    assert m.distance_source == "odometer"
    assert m.distance_miles == pytest.approx(50.0, abs=0.05)
    assert m.electric_miles == pytest.approx(30.0, abs=0.2)
    assert m.gas_miles == pytest.approx(20.0, abs=0.2)
    assert m.electric_kwh_used == pytest.approx(8.4, rel=0.01)
    assert m.kwh_per_mile == pytest.approx(0.28, rel=0.01)
    assert m.fuel_used_gallons == pytest.approx(0.5, rel=0.02)
    assert m.gas_mpg == pytest.approx(40.0, rel=0.02)
    assert m.ambient_temp_f == pytest.approx(64.4)
    assert m.notes == {}


def test_all_electric_drive_has_no_gas_figures() -> None:
    plan = DrivePlan(session="s2", start=START, electric_miles=12.0, gas_miles=0.0)
    state, samples = run(plan)
    assert state.entered_at is None
    m = compute(plan, state, samples)
    assert (m.electric_miles, m.gas_miles, m.fuel_used_gallons, m.gas_mpg) == (pytest.approx(12.0, abs=0.05), 0.0, 0.0, None)
    assert m.kwh_per_mile == pytest.approx(0.28, rel=0.01)


def test_cold_weather_pulse_at_high_soc_is_not_gas_mode() -> None:
    plan = DrivePlan(session="s3", start=START, electric_miles=10.0, gas_miles=0.0, start_soc=90.0, ambient_c=-15.0,
                     cold_pulse_seconds=420.0)
    state, _ = run(plan)
    assert state.entered_at is None


def test_hold_mode_at_high_soc_is_gas_mode() -> None:
    t0 = START
    state = GasState()
    for i in range(40):  # 400 s of engine at a flat 70 % SOC
        state = gas_mode_step(state, t0 + timedelta(seconds=10 * i), 1400.0, 70.0 + (0.2 if i % 2 else 0.0))
    assert state.entered_at == t0
    assert state.soc_at_entry == 70.0


def test_short_pulse_at_the_floor_is_not_gas_mode() -> None:
    state = GasState()
    for i, rpm in enumerate([1400, 1400, 1400, 0, 0]):  # 30 s of engine, then off
        state = gas_mode_step(state, START + timedelta(seconds=10 * i), rpm, 20.0)
    assert state.entered_at is None


def test_engine_cycling_at_the_floor_is_gas_mode() -> None:
    # Charge-sustaining in town: 80 s on, 20 s off, SOC held at 18 %.
    state = GasState()
    for i in range(30):
        rpm = 1300.0 if i % 10 < 8 else 0.0
        state = gas_mode_step(state, START + timedelta(seconds=10 * i), rpm, 18.0)
    assert state.entered_at == START
    assert state.soc_at_entry == 18.0


def test_engine_stop_above_the_floor_ends_the_run() -> None:
    state = GasState()
    for i, rpm in enumerate([1400] * 9 + [0] + [1400] * 9):  # 90 s, a stop, 90 s: never 120 s at a stretch
        state = gas_mode_step(state, START + timedelta(seconds=10 * i), rpm, 24.0 if i < 5 else 30.0)
    assert state.entered_at is None


def test_distance_falls_back_to_torque_trip_then_speed() -> None:
    samples = [Sample(at=START + timedelta(minutes=i), trip_distance_miles=i * 0.5, speed_mph=30.0) for i in range(11)]
    m = trip_metrics_compute(samples, gas_entered_at=None, soc_at_gas_entry=None, soc_span_kwh=14, tank_gallons=8.9)
    assert (m.distance_source, m.distance_miles) == ("torque_trip", 5.0)
    samples = [Sample(at=START + timedelta(minutes=i), speed_mph=30.0) for i in range(11)]
    m = trip_metrics_compute(samples, gas_entered_at=None, soc_at_gas_entry=None, soc_span_kwh=14, tank_gallons=8.9)
    assert (m.distance_source, m.distance_miles) == ("speed", 5.0)


def test_energy_falls_back_to_soc_drop_times_usable_capacity() -> None:
    samples = [Sample(at=START + timedelta(minutes=i), odometer_miles=100 + i, soc_pct=80 - i * 2) for i in range(11)]
    m = trip_metrics_compute(samples, gas_entered_at=None, soc_at_gas_entry=None, soc_span_kwh=14, tank_gallons=8.9)
    assert m.electric_kwh_used == pytest.approx(2.8)  # 20 points of 14 kWh
    assert m.kwh_per_mile == pytest.approx(0.28)


def test_implausible_efficiency_is_stored_empty_with_a_note() -> None:
    samples = [Sample(at=START + timedelta(minutes=i), odometer_miles=100 + i * 0.1, soc_pct=80 - i * 6) for i in range(11)]
    m = trip_metrics_compute(samples, gas_entered_at=None, soc_at_gas_entry=None, soc_span_kwh=14, tank_gallons=8.9)
    assert m.kwh_per_mile is None
    assert "E403" in m.notes["kwh_per_mile"]


def test_fuel_falls_back_to_level_drop_times_tank() -> None:
    # The level is the median within 2 minutes either side of the entry (minutes 3-7: 60 at minute 5)
    # and over the last 4 minutes (minutes 6-10: 57 at minute 8): 3 points over 3 minutes, stretched to
    # the 5 minutes since entry at the same rate: 5 points of a 10 gal tank.
    entry = START + timedelta(minutes=5)
    samples = [Sample(at=START + timedelta(minutes=i), odometer_miles=100 + i, fuel_level_pct=60 - max(i - 5, 0) * 1.0)
               for i in range(11)]
    m = trip_metrics_compute(samples, gas_entered_at=entry, soc_at_gas_entry=20, soc_span_kwh=14, tank_gallons=10)
    assert m.fuel_used_gallons == pytest.approx(0.5)
    assert m.gas_mpg is None and "E403" in m.notes["gas_mpg"]  # 5 miles on 0.5 gal = 10 mpg: implausible
