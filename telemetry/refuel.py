"""Refuels: detected from the fuel level of stored readings (services).

MPG per tank is computed in SQL with the other lifetime statistics (telemetry/stats.py)."""

from __future__ import annotations

from collections.abc import Sequence

from logging_policy.current import current_event
from telemetry.insert_once import insert_once
from telemetry.models import Refuel, Trip, Vehicle
from telemetry.refuel_core import FuelWindow, RefuelFound, refuel_step
from telemetry.trip_metrics import Sample


def refuel_store(*, vehicle: Vehicle, trip: Trip, found: RefuelFound) -> Refuel | None:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: the new refuel, or None if it was already stored."""
    refuel = Refuel(vehicle=vehicle, trip=trip, detected_at=found.detected_at, odometer_miles=found.odometer_miles,
                    level_before=found.level_before, level_after=found.level_after,
                    gallons_added=found.gallons(vehicle.fuel_tank_gallons))
    return refuel if insert_once(refuel) else None


def refuels_replay(*, trip: Trip, samples: Sequence[Sample]) -> list[RefuelFound]:
    """At finalization: run the detector over the trip's readings in time order, from the previous trip's
    final fuel window; store what it finds when the uploads found no refuel in this trip. Returns what
    it found (stored now or by the uploads): the trip's fuel figures count around them.

    Uploads only step the detector with in-order readings, so a trip uploaded out of order (Torque
    flushing its queue after a dead spot) can hide a refuel from them. Two queries, plus one INSERT per
    refuel found; skipped when a refuel of this trip is already stored (no double from a second path).
    """
    previous = (Trip.objects.filter(vehicle_id=trip.vehicle_id, started_at__lt=trip.started_at)
                .order_by("-started_at").values_list("fuel_window", flat=True).first())
    window: FuelWindow = list(previous or [])
    found_any: list[RefuelFound] = []
    for sample in samples:
        if sample.fuel_level_pct is not None:
            window, found = refuel_step(window, sample.at, sample.fuel_level_pct, sample.odometer_miles,
                                        speed_mph=sample.speed_mph)
            if found is not None:
                found_any.append(found)
    trip.fuel_window = window
    if not found_any or Refuel.objects.filter(trip=trip).exists():
        return found_any
    stored = [r for r in (refuel_store(vehicle=trip.vehicle, trip=trip, found=f) for f in found_any) if r]
    if stored:
        _refuel_announce(stored[-1], replayed=True)
    return found_any


def refuel_record(*, vehicle: Vehicle, trip: Trip, found: RefuelFound) -> Refuel | None:
    """Store a refuel an upload's in-order reading showed (telemetry/parked.py); one INSERT."""
    refuel = refuel_store(vehicle=vehicle, trip=trip, found=found)
    if refuel is not None:
        _refuel_announce(refuel)
    return refuel


def _refuel_announce(refuel: Refuel, **more: object) -> None:
    event = current_event()
    event.fact("refuel_detected")
    event.set("refuel", id=refuel.pk, level_before=refuel.level_before, level_after=refuel.level_after,
              gallons_added=refuel.gallons_added, **more)
