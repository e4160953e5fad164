"""The vehicle context on events and the stats API: tiers under the current policy, query budgets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from logging_policy.current import event_bound
from logging_policy.events import WideEvent
from logging_policy.policy import policy_current, policy_override
from logging_policy.sampling import PolicySnapshot
from telemetry.auth import vehicle_for_token
from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.models import VehicleStats
from telemetry.vehicle_context import (
    CONTEXT_FIELDS,
    vehicle_context,
    vehicle_context_add,
    vehicle_context_add_by_id,
)
from tests.factories import staff_make
from tests.telemetry.budget import steady_upload_queries

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DEFAULT = PolicySnapshot()
CHANGED = PolicySnapshot(moderate_min_trips=10, heavy_min_trips=50)


def stats_row(trips: int, **fields: object) -> VehicleStats:
    return VehicleStats(total_trips=trips, refreshed_at=NOW - timedelta(seconds=90), **fields)


@pytest.mark.parametrize(
    ("trips", "default_tier", "changed_tier"),
    [(0, "new", "new"), (1, "light", "light"), (9, "light", "light"), (10, "light", "moderate"),
     (19, "light", "moderate"), (20, "moderate", "moderate"), (49, "moderate", "moderate"),
     (50, "moderate", "heavy"), (99, "moderate", "heavy"), (100, "heavy", "heavy")],
)
def test_tier_boundaries_follow_the_policy_thresholds(trips: int, default_tier: str, changed_tier: str) -> None:
    row = stats_row(trips)
    assert vehicle_context(vehicle_id=1, stats=row, policy=DEFAULT, now=NOW)["usage_tier"] == default_tier
    assert vehicle_context(vehicle_id=1, stats=row, policy=CHANGED, now=NOW)["usage_tier"] == changed_tier


def test_context_fields_from_the_row() -> None:
    row = stats_row(42, total_miles=1234.567, first_trip_at=NOW - timedelta(days=40, hours=5),
                    battery_capacity_kwh=16.234, capacity_degradation_percent=11.77, avg_kwh_per_mile=0.28456,
                    kwh_charged=812.345, charging_sessions=61, avg_tank_mpg=84.06)
    assert vehicle_context(vehicle_id=7, stats=row, policy=DEFAULT, now=NOW) == {
        "id": 7, "total_trips": 42, "total_miles": 1234.6, "account_age_days": 40, "usage_tier": "moderate",
        "battery_capacity_kwh": 16.23, "capacity_degradation_percent": 11.8, "avg_kwh_per_mile": 0.285,
        "kwh_charged": 812.3, "charging_sessions": 61, "avg_tank_mpg": 84.1, "stats_age_seconds": 90.0,
    }
    assert tuple(vehicle_context(vehicle_id=7, stats=row, policy=DEFAULT, now=NOW)) == CONTEXT_FIELDS


def test_vehicle_without_trips_or_row_is_new_with_age_zero() -> None:
    for row in (None, stats_row(0)):
        context = vehicle_context(vehicle_id=3, stats=row, policy=DEFAULT, now=NOW)
        assert (context["usage_tier"], context["account_age_days"], context["total_trips"]) == ("new", 0, 0)


@pytest.mark.django_db
def test_enrichment_query_budget(volt, django_assert_num_queries) -> None:
    VehicleStats.objects.create(vehicle=volt.vehicle, total_trips=20, refreshed_at=timezone.now())
    policy_current()  # a warm process: the policy is loaded once per process, not per request
    event = WideEvent(operation="t", kind="task")
    with event_bound(event):
        with django_assert_num_queries(1):
            # 1 vehicle by token hash, its stats row joined by primary key
            vehicle = vehicle_for_token(volt.token)
        assert vehicle is not None
        with django_assert_num_queries(0):
            vehicle_context_add(vehicle=vehicle)
        assert event.data["vehicle"]["usage_tier"] == "moderate"
        with django_assert_num_queries(1):
            # 1 stats row by primary key
            vehicle_context_add_by_id(vehicle_id=volt.vehicle.pk)
    assert event.data["vehicle"]["total_trips"] == 20


START = datetime(2026, 3, 2, 17, 45, tzinfo=UTC)


@pytest.mark.django_db
def test_upload_event_carries_the_context_within_the_query_budget(volt, upload, wide_events,
                                                                  django_assert_num_queries) -> None:
    VehicleStats.objects.create(vehicle=volt.vehicle, total_trips=19, total_miles=400.0,
                                first_trip_at=timezone.now() - timedelta(days=45), refreshed_at=timezone.now())
    readings = drive_readings(DrivePlan(session="ctx", start=START))
    upload(volt.token, next(readings))
    with django_assert_num_queries(steady_upload_queries()):
        # 1 the session's trip by the vehicle cached at the first upload (its id and token hash), 2 INSERT reading ON CONFLICT
        # DO NOTHING and UPDATE trip counters in one statement (SQLite: two)
        assert upload(volt.token, next(readings)).content == b"OK!"
    with policy_override(PolicySnapshot(default_sample_rate=1.0, new_vehicle_rate=1.0, moderate_min_trips=19)):
        upload(volt.token, next(readings))
    contexts = [e["vehicle"] for e in wide_events.events if e["operation"] == "telemetry_upload"]
    assert [c["usage_tier"] for c in contexts] == ["light", "light", "moderate"]  # a threshold change applies at once
    assert contexts[0]["account_age_days"] == 45 and contexts[0]["total_miles"] == 400.0
    assert "token" not in str(contexts[0]) and volt.token not in str(wide_events.lines)


@pytest.fixture
def refreshed(volt) -> VehicleStats:
    return VehicleStats.objects.create(
        vehicle=volt.vehicle, total_trips=100, total_miles=3000.0, electric_miles=2100.0, gas_miles=900.0,
        electric_share=0.7, first_trip_at=timezone.now() - timedelta(days=400), avg_kwh_per_mile=0.29,
        battery_capacity_kwh=16.1, capacity_degradation_percent=12.5, capacity_samples=3,
        capacity_loss_kwh_per_10k_miles=0.4, refreshed_at=timezone.now(),
    )


@pytest.mark.django_db
def test_stats_api_uses_the_event_field_names(client, volt, refreshed, wide_events,
                                              django_assert_num_queries) -> None:
    with django_assert_num_queries(2):
        # 1 Bearer token's vehicle (access rule), 2 vehicle with its stats row by primary key
        response = client.get(f"/api/vehicles/{volt.vehicle.pk}/stats/",
                              headers={"Authorization": f"Bearer {volt.token}"})
    assert response.status_code == 200
    body = response.json()
    event = next(e for e in wide_events.events if e["operation"] == "vehicle_stats")
    assert {k: body[k] for k in CONTEXT_FIELDS if k != "stats_age_seconds"} == {
        k: v for k, v in event["vehicle"].items() if k != "stats_age_seconds"
    }
    assert (body["total_trips"], body["usage_tier"], body["account_age_days"]) == (100, "heavy", 400)
    assert (body["electric_share"], body["capacity_loss_kwh_per_10k_miles"], body["lifetime_mpg"]) == (0.7, 0.4, None)


@pytest.mark.django_db
def test_stats_api_access_rule_matches_the_trips_api(client, new_vehicle, volt, refreshed) -> None:
    url = f"/api/vehicles/{volt.vehicle.pk}/stats/"
    assert client.get(url).json()["error"]["code"] == "E401"
    other = new_vehicle("Other Volt")
    assert client.get(url, headers={"Authorization": f"Bearer {other.token}"}).status_code == 403
    client.force_login(staff_make("ops"))
    assert client.get(url).json()["total_trips"] == 100
    never_refreshed = client.get(f"/api/vehicles/{other.vehicle.pk}/stats/").json()
    assert (never_refreshed["usage_tier"], never_refreshed["account_age_days"], never_refreshed["refreshed_at"]) == (
        "new", 0, None)
    missing = client.get("/api/vehicles/999999/stats/")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "E004"
