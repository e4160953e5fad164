"""A fleet of benchmark vehicles and the Torque uploads they send (shared by the benchmarks).

Vehicles are "moderate" users a year old (a VehicleStats row with 50 trips), so their
uploads are sampled at the ordinary rate (5 % by default), as most uploads are in service.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.db import transaction
from django.utils import timezone

PARAMS = {
    "v": "8", "id": "benchdevice0001", "eml": "owner@example.com", "kd": "64.37", "kff1001": "64.37",
    "ka6": "19312.1", "kff1204": "12.3", "kff1271": "0", "kc": "0", "k46": "18.0", "k5": "30.0",
    "k22005b": "79.8", "k22002f": "60.0", "k22000b": "11.2", "k220009": "384.0", "k220057": "0",
    "kff1006": "42.3312", "kff1005": "-83.0512",
}
START_MS = 1_780_000_000_000


def fleet_create(*, vehicles: int, prefix: str = "bench") -> list[tuple[int, str]]:
    """(vehicle id, upload token) of `vehicles` new vehicles, each with a year of lifetime statistics."""
    from telemetry.models import VehicleStats
    from telemetry.vehicles import vehicle_create

    now = timezone.now()
    fleet = []
    with transaction.atomic():
        for i in range(vehicles):
            created = vehicle_create(name=f"{prefix} {i}")
            VehicleStats.objects.create(vehicle=created.vehicle, total_trips=50, total_miles=1500.0,
                                        first_trip_at=now - timedelta(days=365), refreshed_at=now)
            fleet.append((created.vehicle.pk, created.token))
    return fleet


def upload_query(*, session: str, at_ms: int) -> str:
    """The query string of one ordinary reading (electric driving, 40 mph)."""
    return urlencode({**PARAMS, "session": session, "time": str(at_ms)})
