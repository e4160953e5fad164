"""Vehicles and their upload tokens."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from telemetry.models import Vehicle
from telemetry.tokens import token_hash

pytestmark = pytest.mark.django_db


def test_create_vehicle_prints_the_upload_url_and_stores_only_a_hash() -> None:
    out = StringIO()
    call_command("create_vehicle", "Blue Volt", "--base-url", "https://volt.example.org", stdout=out)
    match = re.search(r"https://volt\.example\.org/api/torque/upload/([A-Za-z0-9_-]{32})\s", out.getvalue())
    assert match, out.getvalue()
    token = match.group(1)
    vehicle = Vehicle.objects.get(name="Blue Volt")
    assert vehicle.token_hash == token_hash(token)
    assert token not in vehicle.token_hash
    assert (vehicle.fuel_tank_gallons, vehicle.nominal_battery_kwh) == (8.9, 18.4)


def test_admin_add_shows_the_url_once(client) -> None:
    client.force_login(User.objects.create_superuser("admin", password="pw"))
    response = client.post("/admin/telemetry/vehicle/add/", {
        "name": "Red Volt", "fuel_tank_gallons": "9.3", "nominal_battery_kwh": "16.5",
        "pid_descriptions-TOTAL_FORMS": "0", "pid_descriptions-INITIAL_FORMS": "0",
    })
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    found = re.search(rb"/api/torque/upload/([A-Za-z0-9_-]{32})<", response.content)
    assert found is not None
    token = found.group(1).decode()
    vehicle = Vehicle.objects.get(name="Red Volt")
    assert vehicle.token_hash == token_hash(token)
    assert vehicle.fuel_tank_gallons == 9.3
    page = client.get(f"/admin/telemetry/vehicle/{vehicle.pk}/change/")
    assert token.encode() not in page.content


def test_token_reset_action_invalidates_the_old_token(client, volt, upload) -> None:
    client.force_login(User.objects.create_superuser("admin", password="pw"))
    response = client.post("/admin/telemetry/vehicle/", {"action": "reset_upload_token",
                                                         "_selected_action": [volt.vehicle.pk]})
    found = re.search(rb"/api/torque/upload/([A-Za-z0-9_-]{32})<", response.content)
    assert found is not None
    new = found.group(1).decode()
    assert new != volt.token
    params = {"session": "1", "time": "1772473500000", "kd": "10"}
    assert upload(volt.token, params).status_code == 401
    assert upload(new, params).content == b"OK!"
