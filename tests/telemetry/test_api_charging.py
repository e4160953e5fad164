"""Charging and refuel API: fields and the same access rule as trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.admin import site
from django.contrib.auth.models import User
from django.test import RequestFactory
from django.utils import timezone

from telemetry.drive_sim import ChargePlan, DrivePlan, charge_readings, drive_readings
from telemetry.models import ChargingSession, Refuel, VehicleStats
from telemetry.views_charging import CHARGING_FIELDS, REFUEL_FIELDS
from tests.factories import staff_make

pytestmark = pytest.mark.django_db
START = datetime(2026, 5, 5, 21, 0, tzinfo=UTC)


@pytest.fixture
def history(volt, upload):
    for params in charge_readings(ChargePlan(session="a-1", start=START, start_soc=80, end_soc=90, fuel_pct=25)):
        upload(volt.token, params)
    for params in drive_readings(DrivePlan(session="a-2", start=START + timedelta(hours=10), electric_miles=1, start_odometer_miles=12_050,
                                           gas_miles=0, start_fuel_pct=90, standing_readings=3)):
        upload(volt.token, params)
    return volt


def test_vehicle_token_lists_charging_sessions_and_refuels(client, history) -> None:
    auth = {"Authorization": f"Bearer {history.token}"}
    charging = client.get(f"/api/vehicles/{history.vehicle.pk}/charging/", headers=auth)
    assert charging.status_code == 200
    [session] = charging.json()["charging_sessions"]
    assert set(session) == set(CHARGING_FIELDS)
    assert session["level"] == "L2" and session["is_complete"] is True  # driving off closed it
    assert session["start_soc"] == pytest.approx(80.0) and session["kwh_added"] > 1.0
    refuels = client.get(f"/api/vehicles/{history.vehicle.pk}/refuels/", headers=auth)
    [refuel] = refuels.json()["refuels"]
    assert set(refuel) == set(REFUEL_FIELDS)
    assert (refuel["level_before"], refuel["level_after"]) == (25.0, 90.0)
    assert refuel["gallons_added"] == pytest.approx(8.9 * 0.65, abs=0.01)


def test_access_rule_is_the_trips_one(client, new_vehicle, history) -> None:
    other = new_vehicle("Other Volt")
    for suffix in ("charging", "refuels"):
        url = f"/api/vehicles/{history.vehicle.pk}/{suffix}/"
        assert client.get(url).json()["error"]["code"] == "E401"
        assert client.get(url, headers={"Authorization": f"Bearer {other.token}"}).status_code == 403
    client.force_login(staff_make("ops"))
    assert len(client.get(f"/api/vehicles/{history.vehicle.pk}/refuels/").json()["refuels"]) == 1


def test_admin_shows_both_read_only(client, history) -> None:
    admin = User.objects.create_superuser("root", password="x")
    client.force_login(admin)
    for model, pk in (("chargingsession", ChargingSession.objects.get().pk), ("refuel", Refuel.objects.get().pk)):
        listing = client.get(f"/admin/telemetry/{model}/")
        assert listing.status_code == 200
        assert f"/admin/telemetry/{model}/{pk}/change/".encode() in listing.content
        assert f"/admin/telemetry/{model}/add/".encode() not in listing.content
    request = RequestFactory().get("/admin/")
    request.user = admin
    for model_class in (ChargingSession, Refuel):
        model_admin = site._registry[model_class]
        assert not model_admin.has_add_permission(request) and not model_admin.has_change_permission(request)


@pytest.mark.parametrize("path", ["charging", "refuels"])
def test_reads_carry_the_vehicle_context_so_a_heavy_vehicle_is_always_kept(client, volt, sampled_events, path) -> None:
    VehicleStats.objects.create(vehicle=volt.vehicle, total_trips=150, refreshed_at=timezone.now())
    response = client.get(f"/api/vehicles/{volt.vehicle.pk}/{path}/", headers={"Authorization": f"Bearer {volt.token}"})
    assert response.status_code == 200
    [event] = sampled_events.events
    assert event["vehicle"]["usage_tier"] == "heavy" and event["vehicle"]["total_trips"] == 150
    assert event["sampling"]["reason"] == "always_keep_tier"
