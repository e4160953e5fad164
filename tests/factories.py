"""Rows made directly, for tests that need known figures rather than simulated drives."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import Permission, User

from telemetry.models import BatteryHealthSample, Trip, Vehicle

# What the read API's answers hold: staff need the admin's view permission on each (telemetry/auth.py).
READ_API_MODELS = ("vehicle", "trip", "vehiclestats", "chargingsession", "refuel")


class Clock:
    """A clock that moves only when a test moves it (`clock.now += seconds`), for modules' `clock` hooks."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def trip_make(vehicle: Vehicle, started_at: datetime, *, closed: bool = True, **figures: Any) -> Trip:
    """A trip of `vehicle` with the given figures; finished unless `closed=False`."""
    ended = started_at + timedelta(minutes=30)
    return Trip.objects.create(
        vehicle=vehicle, session=str(int(started_at.timestamp() * 1000)), trip_key=f"t{started_at.timestamp()}",
        started_at=started_at, last_reading_at=ended, last_received_at=ended,
        ended_at=ended if closed else None, is_closed=closed, **figures,
    )


def sample_make(trip: Trip, capacity_kwh: float, lifetime_miles: float, *, is_estimate: bool = False
                ) -> BatteryHealthSample:
    return BatteryHealthSample.objects.create(
        vehicle_id=trip.vehicle_id, trip=trip, capacity_kwh=capacity_kwh, is_estimate=is_estimate,
        lifetime_miles=lifetime_miles, at=trip.ended_at or trip.last_reading_at,
    )


def staff_make(username: str, *, views: tuple[str, ...] = READ_API_MODELS, password: str = "pw-staff-123") -> User:
    """A staff user with the view permission of each telemetry model in `views`, and no other."""
    user = User.objects.create_user(username, password=password, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="telemetry", codename__in=[f"view_{name}" for name in views]))
    return user
