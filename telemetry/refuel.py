"""Refuels: detected from the fuel level of stored readings (service); MPG per tank (selector)."""

from __future__ import annotations

from datetime import datetime

from logging_policy.events import current_event
from telemetry.insert_once import insert_once
from telemetry.models import Refuel, Trip, Vehicle
from telemetry.refuel_core import FuelWindow, RefuelFound, RefuelPoint, TankMpg, refuel_step, tank_mpg


def refuel_store(*, vehicle: Vehicle, trip: Trip, found: RefuelFound) -> Refuel | None:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: the new refuel, or None if it was already stored."""
    refuel = Refuel(vehicle=vehicle, trip=trip, detected_at=found.detected_at, odometer_miles=found.odometer_miles,
                    level_before=found.level_before, level_after=found.level_after,
                    gallons_added=found.gallons(vehicle.fuel_tank_gallons))
    return refuel if insert_once(refuel) else None


def refuel_record_reading(*, vehicle: Vehicle, trip: Trip, at: datetime, level: float,
                          odometer_miles: float | None) -> FuelWindow:
    """Advance the trip's fuel window by one in-order reading; store a refuel when it shows one.

    Returns the new window, which the caller writes with the trip's own UPDATE:
    no query here unless a refuel is found (then one INSERT).
    """
    window, found = refuel_step(trip.fuel_window, at, level, odometer_miles)
    trip.fuel_window = window
    if found is not None:
        refuel = refuel_store(vehicle=vehicle, trip=trip, found=found)
        if refuel is not None:
            event = current_event()
            event.fact("refuel_detected")
            event.set("refuel", id=refuel.pk, level_before=refuel.level_before, level_after=refuel.level_after,
                      gallons_added=refuel.gallons_added)
    return window


def mpg_per_tank(*, vehicle_id: int) -> list[TankMpg]:
    """Miles, gallons and MPG between consecutive refuels of the vehicle, oldest first. Two queries."""
    tank = Vehicle.objects.filter(pk=vehicle_id).values_list("fuel_tank_gallons", flat=True).first()
    if tank is None:
        return []
    rows = Refuel.objects.filter(vehicle_id=vehicle_id).order_by("detected_at").values_list(
        "detected_at", "odometer_miles", "level_before", "level_after"
    )
    return tank_mpg([RefuelPoint(*r) for r in rows], tank)
