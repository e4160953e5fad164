"""Lifetime statistics on known data: aggregates, capacity trend, idempotence, the all-vehicles path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from logging_policy.current import event_bound
from logging_policy.events import WideEvent
from telemetry.models import VehicleStats
from telemetry.stats import vehicle_stats_refresh, vehicle_stats_refresh_all
from telemetry.tasks import vehicle_stats_refresh_all_task, vehicle_stats_refresh_task
from tests.factories import sample_make, trip_make

pytestmark = pytest.mark.django_db
DAY0 = datetime(2026, 1, 10, 8, 0, tzinfo=UTC)


@pytest.fixture
def three_trips(volt):
    v = volt.vehicle
    trip_make(v, DAY0, distance_miles=30, electric_miles=30, gas_miles=0, electric_kwh_used=8.4,
              kwh_per_mile=0.28, fuel_used_gallons=0)
    trip_make(v, DAY0 + timedelta(days=1), distance_miles=50, electric_miles=30, gas_miles=20, electric_kwh_used=9.0,
              kwh_per_mile=0.30, fuel_used_gallons=0.5, gas_mpg=40)
    # An implausible kWh/mile was stored empty: its energy must not enter the average.
    trip_make(v, DAY0 + timedelta(days=2), distance_miles=20, electric_miles=10, gas_miles=10, electric_kwh_used=50,
              kwh_per_mile=None, fuel_used_gallons=0.4, gas_mpg=25)
    trip_make(v, DAY0 + timedelta(days=3), closed=False, distance_miles=999)  # still open: not counted
    return v


def test_aggregates_count_finished_trips_only(three_trips) -> None:
    assert vehicle_stats_refresh(vehicle_id=three_trips.pk) == 1
    s = VehicleStats.objects.get(vehicle=three_trips)
    assert s.total_trips == 3
    assert (s.total_miles, s.electric_miles, s.gas_miles) == pytest.approx((100, 70, 30))
    assert s.electric_share == pytest.approx(0.7)
    assert s.avg_kwh_per_mile == pytest.approx((8.4 + 9.0) / 60)  # distance-weighted, plausible trips only
    assert s.lifetime_mpg == pytest.approx((20 + 10) / (0.5 + 0.4))
    assert s.first_trip_at == DAY0
    assert s.last_trip_at == DAY0 + timedelta(days=2, minutes=30)
    assert s.battery_capacity_kwh is None and s.capacity_samples == 0


def test_refresh_is_idempotent(three_trips) -> None:
    vehicle_stats_refresh(vehicle_id=three_trips.pk)
    first = VehicleStats.objects.values().get(vehicle=three_trips)
    vehicle_stats_refresh(vehicle_id=three_trips.pk)
    second = VehicleStats.objects.values().get(vehicle=three_trips)
    assert VehicleStats.objects.count() == 1
    assert second["refreshed_at"] >= first["refreshed_at"]
    assert {**first, "refreshed_at": None} == {**second, "refreshed_at": None}


def test_vehicle_without_trips_gets_an_empty_row_and_unknown_id_none(volt) -> None:
    assert vehicle_stats_refresh(vehicle_id=volt.vehicle.pk) == 1
    s = VehicleStats.objects.get(vehicle=volt.vehicle)
    assert (s.total_trips, s.total_miles, s.first_trip_at, s.avg_kwh_per_mile) == (0, 0, None, None)
    assert vehicle_stats_refresh(vehicle_id=volt.vehicle.pk + 1000) == 0


def test_capacity_latest_degradation_and_trend(volt) -> None:
    v = volt.vehicle  # nominal 18.4 kWh
    for i, (miles, kwh) in enumerate([(0, 18.0), (10_000, 17.6), (20_000, 17.0), (30_000, 16.6)]):
        sample_make(trip_make(v, DAY0 + timedelta(days=30 * i), distance_miles=10), kwh, miles)
    vehicle_stats_refresh(vehicle_id=v.pk)
    s = VehicleStats.objects.get(vehicle=v)
    assert s.battery_capacity_kwh == pytest.approx(16.6)
    assert s.capacity_is_estimate is False
    assert s.capacity_degradation_percent == pytest.approx((1 - 16.6 / 18.4) * 100)
    # Least squares over (0, 18.0) (1, 17.6) (2, 17.0) (3, 16.6) in 10k miles: slope -0.48.
    assert s.capacity_loss_kwh_per_10k_miles == pytest.approx(0.48)
    assert s.capacity_samples == 4


def test_becm_samples_outrank_estimates_and_estimates_stand_alone(new_vehicle) -> None:
    both, only_est = new_vehicle("both").vehicle, new_vehicle("estimates").vehicle
    sample_make(trip_make(both, DAY0, distance_miles=10), 16.0, 0)
    sample_make(trip_make(both, DAY0 + timedelta(days=5), distance_miles=10), 14.0, 1_000, is_estimate=True)
    sample_make(trip_make(only_est, DAY0, distance_miles=10), 17.0, 0, is_estimate=True)
    sample_make(trip_make(only_est, DAY0 + timedelta(days=5), distance_miles=10), 16.9, 5_000, is_estimate=True)
    vehicle_stats_refresh_all()
    b, e = VehicleStats.objects.get(vehicle=both), VehicleStats.objects.get(vehicle=only_est)
    assert (b.battery_capacity_kwh, b.capacity_is_estimate, b.capacity_samples) == (16.0, False, 1)
    assert b.capacity_loss_kwh_per_10k_miles is None  # one sample is no trend
    assert (e.battery_capacity_kwh, e.capacity_is_estimate, e.capacity_samples) == (16.9, True, 2)
    assert e.capacity_loss_kwh_per_10k_miles == pytest.approx(0.2)


def test_samples_closer_than_the_minimum_spread_give_no_trend(volt) -> None:
    sample_make(trip_make(volt.vehicle, DAY0, distance_miles=10), 16.0, 1_000)
    sample_make(trip_make(volt.vehicle, DAY0 + timedelta(days=1), distance_miles=10), 15.0, 1_050)
    vehicle_stats_refresh(vehicle_id=volt.vehicle.pk)
    assert VehicleStats.objects.get(vehicle=volt.vehicle).capacity_loss_kwh_per_10k_miles is None


def test_trend_equals_postgres_regr_slope(volt) -> None:
    points = [(0, 18.1), (4_200, 17.9), (9_000, 17.95), (15_500, 17.2), (21_000, 17.3), (33_333, 16.4)]
    for i, (miles, kwh) in enumerate(points):
        sample_make(trip_make(volt.vehicle, DAY0 + timedelta(days=9 * i), distance_miles=1), kwh, miles)
    vehicle_stats_refresh(vehicle_id=volt.vehicle.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT regr_slope(capacity_kwh, lifetime_miles) FROM telemetry_batteryhealthsample")
        (slope,) = cursor.fetchone()
    ours = VehicleStats.objects.get(vehicle=volt.vehicle).capacity_loss_kwh_per_10k_miles
    assert ours == pytest.approx(-slope * 10_000, rel=1e-9)


def test_refresh_all_in_chunks_equals_one_by_one(new_vehicle, django_assert_num_queries) -> None:
    vehicles = [new_vehicle(f"v{i}").vehicle for i in range(5)]
    for n, v in enumerate(vehicles):
        for d in range(n):
            trip_make(v, DAY0 + timedelta(days=d), distance_miles=10 + n, electric_miles=10, gas_miles=n)
    with django_assert_num_queries(4):
        # 1 vehicle ids, then 3 upserts: ids 1-2, 3-4, 5
        summary = vehicle_stats_refresh_all(chunk=2)
    assert (summary.vehicles, summary.statements) == (5, 3)
    chunked = {r["vehicle_id"]: dict(r) for r in VehicleStats.objects.values()}
    VehicleStats.objects.all().delete()
    for v in vehicles:
        vehicle_stats_refresh(vehicle_id=v.pk)
    single = {r["vehicle_id"]: dict(r) for r in VehicleStats.objects.values()}
    for rows in (chunked, single):
        for row in rows.values():
            row.pop("refreshed_at")
    assert chunked == single
    assert [chunked[v.pk]["total_trips"] for v in vehicles] == [0, 1, 2, 3, 4]
    assert chunked[vehicles[4].pk]["total_miles"] == pytest.approx(56)


def test_refresh_tasks_record_counts_and_timings_on_their_event(three_trips, new_vehicle) -> None:
    new_vehicle("second")
    event = WideEvent(operation="vehicle_stats_refresh", kind="task")
    with event_bound(event):
        assert vehicle_stats_refresh_task(three_trips.pk) == 1
    assert event.data["stats"] == {"scope": "vehicle", "vehicles_refreshed": 1, "statements": 1}
    assert event.timings()["stats_refresh"] > 0
    assert event.data["vehicle"]["total_trips"] == 3 and event.data["vehicle"]["usage_tier"] == "light"

    event = WideEvent(operation="vehicle_stats_refresh_all", kind="task")
    with event_bound(event):
        assert vehicle_stats_refresh_all_task() == 2
    assert event.data["stats"] == {"scope": "all", "vehicles": 2, "vehicles_refreshed": 2, "statements": 2}
    assert event.timings()["stats_refresh"] > 0


def test_management_command_refreshes_all_or_one(three_trips, new_vehicle, capsys) -> None:
    other = new_vehicle("other").vehicle
    call_command("refresh_vehicle_stats", "--no-progress")
    assert "Refreshed 2 vehicles in 1 statements." in capsys.readouterr().out
    assert VehicleStats.objects.get(vehicle=three_trips).total_trips == 3
    call_command("refresh_vehicle_stats", "--chunk", "1")
    assert "2/2" in capsys.readouterr().err  # the progress bar, one step per statement
    VehicleStats.objects.all().delete()
    call_command("refresh_vehicle_stats", "--vehicle", str(other.pk))
    assert list(VehicleStats.objects.values_list("vehicle_id", flat=True)) == [other.pk]


def test_beat_schedule_refreshes_all_on_the_configured_interval(settings) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["refresh-vehicle-stats"]
    assert entry == {"task": "telemetry.tasks.vehicle_stats_refresh_all", "schedule": 900.0}
    assert vehicle_stats_refresh_all_task.name == entry["task"]
