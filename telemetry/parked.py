"""What happens while the car stands: charging and refuelling, read off each stored reading.

Both detectors keep their state on the trip row, which the upload already reads
and updates, so a normal driving upload costs no extra query (docs/charging.md,
"Query cost"). A new trip inherits that state from the vehicle's previous trip,
because the car is charged and refuelled between Torque sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from telemetry.charging import charging_record_reading
from telemetry.charging_core import ChargeSignal, charge_signal, session_touched
from telemetry.models import Trip, Vehicle
from telemetry.refuel import refuel_record
from telemetry.refuel_core import FuelWindow, RefuelFound, fuel_level, refuel_step, standing_speed


@dataclass(frozen=True, slots=True)
class ParkedStep:
    """Both detectors' rules applied to one in-order reading, before anything is written."""

    signal: ChargeSignal
    fuel_window: FuelWindow | None  # the trip's new fuel window; None: the reading has no fuel level
    refuel: RefuelFound | None
    writes_rows: bool  # a charging session or a refuel row to write: queries, and only for a stored reading


def parked_step(*, fuel_window: FuelWindow, session_linked: bool, at: datetime,
                values: dict[str, float]) -> ParkedStep:
    """The rules for one in-order reading, from the trip's parked state (its fuel window, whether it links
    a charging session). Pure."""
    signal = charge_signal(values)
    level = fuel_level(values)
    window, found = None, None
    if level is not None:
        window, found = refuel_step(fuel_window, at, level, values.get("odometer_miles"),
                                    speed_mph=standing_speed(values))
    return ParkedStep(signal, window, found, found is not None or session_touched(signal, linked=session_linked))


def trip_inherit_parked_state(*, trip: Trip) -> dict[str, object]:
    """Copy the previous trip's fuel window and open charging session onto a new trip. One query."""
    previous = (
        Trip.objects.filter(vehicle_id=trip.vehicle_id, started_at__lte=trip.started_at)
        .exclude(pk=trip.pk)
        .order_by("-started_at")
        .values_list("fuel_window", "charging_session_id")
        .first()
    )
    if previous is None:
        return {}
    trip.fuel_window, trip.charging_session_id = previous
    return {"fuel_window": trip.fuel_window, "charging_session_id": trip.charging_session_id}


def parked_record_reading(*, vehicle: Vehicle, trip: Trip, at: datetime, values: dict[str, float],
                          new_trip: bool) -> dict[str, object]:
    """Run both detectors on one stored, in-order reading; returns the trip fields to write."""
    updates = trip_inherit_parked_state(trip=trip) if new_trip else {}
    step = parked_step(fuel_window=trip.fuel_window, session_linked=trip.charging_session_id is not None, at=at,
                       values=values)
    if step.fuel_window is not None:
        updates["fuel_window"] = trip.fuel_window = step.fuel_window
    if step.refuel is not None:
        refuel_record(vehicle=vehicle, trip=trip, found=step.refuel)
    session = charging_record_reading(vehicle=vehicle, trip=trip, at=at, signal=step.signal, values=values)
    link = session.pk if session is not None else None
    if link != trip.charging_session_id:
        trip.charging_session_id = link
        updates["charging_session_id"] = link
    return updates


def parked_step_without_queries(*, trip: Trip, at: datetime, values: dict[str, float],
                                new_trip: bool) -> dict[str, object] | None:
    """What `parked_record_reading` would write on the trip, when it would need no query; else None.

    For a drive (no charging session linked, not charging, no refuel found) both detectors only move
    the trip's fuel window, so the upload can decide before storing the reading and write it with the
    reading's own statement. Anything that writes a row of its own (opening, advancing or closing a
    charging session, storing a refuel, inheriting a new trip's state) must wait until the reading is
    known not to be a duplicate: None sends the caller that way.
    """
    if new_trip:
        return None
    step = parked_step(fuel_window=trip.fuel_window, session_linked=trip.charging_session_id is not None, at=at,
                       values=values)
    if step.writes_rows:
        return None
    return {} if step.fuel_window is None else {"fuel_window": step.fuel_window}
