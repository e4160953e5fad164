"""Vehicle services: creation with a fresh upload token, and the URL Torque Pro needs."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from telemetry.models import Vehicle


@dataclass(frozen=True, slots=True)
class NewToken:
    vehicle: Vehicle
    token: str

    def upload_url(self, base_url: str | None = None) -> str:
        return upload_url(self.token, base_url)


def upload_url(token: str, base_url: str | None = None) -> str:
    base = (base_url or settings.PUBLIC_BASE_URL).rstrip("/")
    return base + reverse("torque_upload", kwargs={"token": token})


def vehicle_create(*, name: str, fuel_tank_gallons: float | None = None,
                   nominal_battery_kwh: float | None = None) -> NewToken:
    """Create a vehicle; the returned token is the only copy there will ever be."""
    vehicle = Vehicle(name=name)
    if fuel_tank_gallons is not None:
        vehicle.fuel_tank_gallons = fuel_tank_gallons
    if nominal_battery_kwh is not None:
        vehicle.nominal_battery_kwh = nominal_battery_kwh
    token = vehicle.token_reset()
    vehicle.save()
    return NewToken(vehicle, token)


def vehicle_token_reset(*, vehicle: Vehicle) -> NewToken:
    """Replace the upload token; the old URL stops working at once."""
    token = vehicle.token_reset()
    vehicle.save(update_fields=["token_hash"])
    return NewToken(vehicle, token)
