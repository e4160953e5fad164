"""Battery capacity samples at trip finalization: BECM value, estimate, and the recent battery context."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from logging_policy.current import event_bound
from logging_policy.events import WideEvent
from telemetry.battery import RecentTrip, battery_context, capacity_estimate, capacity_reading
from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.models import BatteryHealthSample, Trip
from telemetry.trip_metrics import Sample
from telemetry.trips import trip_finalize
from tests.factories import trip_make

START = datetime(2026, 4, 1, 7, 0, tzinfo=UTC)


def steady_drain(minutes: int, *, soc_from: float, soc_to: float, kw: float) -> list[Sample]:
    step = (soc_from - soc_to) / minutes
    return [Sample(at=START + timedelta(minutes=i), soc_pct=soc_from - step * i, hv_power_kw=kw)
            for i in range(minutes + 1)]


def test_estimate_scales_usable_energy_to_the_whole_pack() -> None:
    # 60 min at 8.4 kW = 8.4 kWh for 60 points: 14 kWh usable, 18.4 kWh whole pack.
    samples = steady_drain(60, soc_from=80, soc_to=20, kw=8.4)
    assert capacity_estimate(samples, split_at=None) == pytest.approx(18.4)


def test_estimate_uses_only_the_electric_part_and_counts_regeneration() -> None:
    samples = steady_drain(60, soc_from=80, soc_to=20, kw=8.4)
    regen = [Sample(at=s.at, soc_pct=s.soc_pct, hv_power_kw=-8.4 if i % 2 else 25.2) for i, s in enumerate(samples)]
    # Alternating 25.2 / -8.4 kW averages to 8.4 kW net, the same energy as above.
    assert capacity_estimate(regen, split_at=None) == pytest.approx(18.4)
    gas_tail = samples + [Sample(at=START + timedelta(minutes=61 + i), soc_pct=20, hv_power_kw=30) for i in range(9)]
    assert capacity_estimate(gas_tail, split_at=samples[-1].at) == pytest.approx(18.4)


@pytest.mark.parametrize(
    ("samples", "why"),
    [
        (steady_drain(60, soc_from=80, soc_to=41, kw=8.4), "drop of 39 points is too small"),
        ([Sample(at=s.at, soc_pct=s.soc_pct) for s in steady_drain(60, soc_from=80, soc_to=20, kw=8.4)], "no power"),
        (steady_drain(60, soc_from=80, soc_to=20, kw=0.5), "implausible capacity"),
    ],
)
def test_no_estimate_without_enough_evidence(samples: list[Sample], why: str) -> None:
    assert capacity_estimate(samples, split_at=None) is None, why


def test_becm_value_wins_over_the_estimate() -> None:
    samples = steady_drain(60, soc_from=80, soc_to=20, kw=8.4)
    reading = capacity_reading(samples, becm_kwh=16.2, split_at=None)
    assert reading is not None
    assert (reading.capacity_kwh, reading.is_estimate) == (16.2, False)
    reading = capacity_reading(samples, becm_kwh=None, split_at=None)
    assert reading is not None
    assert reading.capacity_kwh == pytest.approx(18.4) and reading.is_estimate is True


def test_recent_context_averages_and_soc_at_gas_entry_trend() -> None:
    recent = [
        RecentTrip(electric_miles=30, electric_kwh_used=8.4, kwh_per_mile=0.28, soc_at_gas_entry=15.0),
        RecentTrip(electric_miles=20, electric_kwh_used=6.0, kwh_per_mile=0.30, soc_at_gas_entry=None),
        RecentTrip(electric_miles=10, electric_kwh_used=9.0, kwh_per_mile=None, soc_at_gas_entry=16.0),
        RecentTrip(electric_miles=None, electric_kwh_used=None, kwh_per_mile=None, soc_at_gas_entry=17.5),
    ]
    assert battery_context(recent) == {
        "recent_trips": 4,
        "recent_avg_electric_miles_per_trip": 20.0,
        "recent_kwh_per_mile": round(14.4 / 50, 4),
        "recent_soc_at_gas_entry_avg": round((15 + 16 + 17.5) / 3, 2),
        "soc_at_gas_entry_trend_per_trip": 1.25,
    }
    assert battery_context([])["soc_at_gas_entry_trend_per_trip"] is None


def drive(volt, upload, session: str, **plan: Any) -> Trip:
    for params in drive_readings(DrivePlan(session=session, start=START, **plan)):
        assert upload(volt.token, params).content == b"OK!"
    return Trip.objects.get(session=session)


def trip_distance(trip: Trip) -> float:
    trip.refresh_from_db()
    assert trip.distance_miles is not None
    return trip.distance_miles


@pytest.mark.django_db
def test_finalization_records_the_becm_sample_with_miles(volt, upload) -> None:
    trip_make(volt.vehicle, START - timedelta(days=1), distance_miles=12.5)
    trip = drive(volt, upload, "b-1", electric_miles=5, gas_miles=0)
    trip_finalize(trip_id=trip.pk)
    sample = BatteryHealthSample.objects.get()
    assert (sample.trip_id, sample.capacity_kwh, sample.is_estimate) == (trip.pk, 16.2, False)
    assert sample.lifetime_miles == pytest.approx(12.5 + trip_distance(trip), abs=0.001)
    assert sample.odometer_miles == pytest.approx(12_005, abs=0.05)


@pytest.mark.django_db
def test_finalization_estimates_capacity_when_the_car_reports_none(volt, upload) -> None:
    # 30 electric miles at 0.28 kWh/mile from a 12.6 kWh usable window: 66.7 points of SOC.
    trip = drive(volt, upload, "b-2", battery_capacity_kwh=None, usable_kwh=12.6)
    event = WideEvent(operation="trip_finalize", kind="task")
    with event_bound(event):
        trip_finalize(trip_id=trip.pk)
    sample = BatteryHealthSample.objects.get()
    assert sample.is_estimate is True
    assert sample.capacity_kwh == pytest.approx(12.6 / (14 / 18.4), rel=0.01)
    assert event.data["battery"]["capacity_kwh"] == sample.capacity_kwh
    assert event.data["battery"]["capacity_is_estimate"] is True
    assert event.data["battery"]["recent_trips"] == 1
    assert event.data["battery"]["recent_kwh_per_mile"] == pytest.approx(0.28, rel=0.01)
    assert event.data["battery"]["recent_soc_at_gas_entry_avg"] == pytest.approx(trip.soc_at_gas_entry, abs=0.01)
    assert event.data["vehicle"]["id"] == volt.vehicle.pk
    assert event.data["vehicle"]["usage_tier"] == "new"  # the refresh runs after commit, in its own task


@pytest.mark.django_db
def test_short_drive_without_becm_records_no_sample(volt, upload) -> None:
    trip = drive(volt, upload, "b-3", electric_miles=5, gas_miles=0, battery_capacity_kwh=None)
    trip_finalize(trip_id=trip.pk)
    assert BatteryHealthSample.objects.count() == 0
