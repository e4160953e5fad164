"""`/`: staff see each vehicle's last trips, lifetime figures and last charge; anyone else goes to the login."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from logging_policy.policy import policy_current
from telemetry.models import ChargingSession, VehicleStats
from tests.factories import staff_make, trip_make

pytestmark = pytest.mark.django_db
START = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)


def test_anonymous_and_non_staff_users_are_sent_to_the_login(client) -> None:
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/admin/login/?next=/"
    client.force_login(User.objects.create_user("driver", password="x"))
    assert client.get("/")["Location"] == "/admin/login/?next=/"


def test_staff_see_each_vehicle_with_links_into_the_admin(client, new_vehicle, django_assert_num_queries) -> None:
    daily, spare = new_vehicle("Daily Volt").vehicle, new_vehicle("Spare Volt").vehicle
    trips = [trip_make(daily, START + timedelta(days=i), distance_miles=40.04 + i, electric_miles=35.55,
                       gas_miles=4.49 + i, kwh_per_mile=0.28765, gas_mpg=38.96) for i in range(7)]
    VehicleStats.objects.create(vehicle=daily, total_trips=7, total_miles=301.234, electric_share=0.8123,
                                avg_kwh_per_mile=0.2876, lifetime_mpg=39.04, battery_capacity_kwh=16.123,
                                kwh_charged=55.556, charging_sessions=3, refreshed_at=timezone.now())
    now = timezone.now()
    charge = ChargingSession.objects.create(vehicle=daily, started_at=now, ended_at=now, last_reading_at=now,
                                            last_received_at=now, kwh_added=9.876, level="L2", start_soc=20.04,
                                            end_soc=90.0)
    client.force_login(staff_make("ops"))
    policy_current()  # a warm process: the policy is loaded once per process, not per request
    with django_assert_num_queries(7):
        # 1 session, 2 user, 3 vehicles with their stats rows, 4 their last 5 trips (a window per vehicle),
        # 5 their last charging session, 6-7 the user's and their groups' permissions (the admin's menu)
        page = client.get("/").content.decode()
    daily_part = page[page.index(f'id="vehicle-{daily.pk}"'):page.index(f'id="vehicle-{spare.pk}"')]
    shown = [t.pk for t in trips if f"/admin/telemetry/trip/{t.pk}/change/" in daily_part]
    assert shown == [t.pk for t in trips[2:]]  # the last five
    for text in ("301.2 mi in 7 trips", "81.2 %", "0.288 kWh/mi", "39.0 mpg", "16.12 kWh", "55.56 kWh in 3 sessions",
                 "9.88 kWh (L2), 20.0 % → 90.0 %", f"/admin/telemetry/chargingsession/{charge.pk}/change/",
                 f"/admin/telemetry/vehiclestats/{daily.pk}/change/", ">46.0 mi<", ">0.288 kWh/mi<", ">0:30<"):
        assert text in daily_part, text
    spare_part = page[page.index(f'id="vehicle-{spare.pk}"'):]
    assert "No trips yet." in spare_part and "none yet" in spare_part


def test_staff_without_the_view_permissions_see_no_vehicle(client, new_vehicle) -> None:
    new_vehicle("Daily Volt")
    client.force_login(staff_make("policy-only", views=("vehicle",)))  # not trips, stats or charges
    page = client.get("/")
    assert page.status_code == 403
    text = page.content.decode()
    assert "Daily Volt" not in text and "telemetry.view_trip" in text


def test_view_site_in_the_admin_leads_home(client) -> None:
    client.force_login(User.objects.create_superuser("ops", password="x"))
    assert '<a href="/">View site</a>' in client.get("/admin/").content.decode()
    assert client.get("/").status_code == 200
