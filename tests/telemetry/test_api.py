"""Read-only JSON API: who may see what."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User

from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.models import Trip
from telemetry.trips import trip_finalize
from telemetry.views import TRIP_FIELDS
from tests.factories import staff_make

pytestmark = pytest.mark.django_db
START = datetime(2026, 5, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def finished_trip(volt, upload) -> Trip:
    for params in drive_readings(DrivePlan(session="api-1", start=START, electric_miles=5, gas_miles=0)):
        upload(volt.token, params)
    trip = Trip.objects.get()
    trip_finalize(trip_id=trip.pk)
    trip.refresh_from_db()
    return trip


def test_vehicle_token_reads_its_trips(client, volt, finished_trip) -> None:
    response = client.get(f"/api/vehicles/{volt.vehicle.pk}/trips/", headers={"Authorization": f"Bearer {volt.token}"})
    assert response.status_code == 200
    trips = response.json()["trips"]
    assert [t["id"] for t in trips] == [finished_trip.pk]
    assert set(TRIP_FIELDS) <= set(trips[0])
    assert trips[0]["distance_miles"] == pytest.approx(5.0, abs=0.05)
    assert trips[0]["is_closed"] is True


def test_trip_detail_with_token(client, volt, finished_trip) -> None:
    response = client.get(f"/api/trips/{finished_trip.pk}/", headers={"Authorization": f"Bearer {volt.token}"})
    assert response.status_code == 200
    assert response.json()["kwh_per_mile"] == pytest.approx(0.28, rel=0.01)


def test_anonymous_gets_401(client, volt, finished_trip) -> None:
    for url in (f"/api/vehicles/{volt.vehicle.pk}/trips/", f"/api/trips/{finished_trip.pk}/", "/api/trips/999999/"):
        response = client.get(url)
        assert response.status_code == 401, url
        assert response.json()["error"]["code"] == "E401"


def test_other_vehicles_token_gets_403(client, new_vehicle, volt, finished_trip) -> None:
    other = new_vehicle("Other Volt")
    auth = {"Authorization": f"Bearer {other.token}"}
    assert client.get(f"/api/vehicles/{volt.vehicle.pk}/trips/", headers=auth).status_code == 403
    assert client.get(f"/api/trips/{finished_trip.pk}/", headers=auth).status_code == 403


def test_staff_with_view_permissions_reads_everything_and_missing_trip_is_404(client, volt, finished_trip) -> None:
    client.force_login(staff_make("ops"))
    assert client.get(f"/api/vehicles/{volt.vehicle.pk}/trips/").status_code == 200
    response = client.get("/api/trips/999999/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "E004"


def test_non_staff_user_is_not_enough(client, volt, finished_trip) -> None:
    client.force_login(User.objects.create_user("someone", password="x"))
    assert client.get(f"/api/vehicles/{volt.vehicle.pk}/trips/").status_code == 401


def test_a_401_names_the_bearer_scheme(client, volt) -> None:
    response = client.get(f"/api/vehicles/{volt.vehicle.pk}/trips/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="volttracker"'
