"""What happens while the car stands: charging and refuelling, read off each stored reading.

Both detectors keep their state on the trip row, which the upload already reads
and updates, so a normal driving upload costs no extra query (docs/charging.md,
"Query cost"). A new trip inherits that state from the vehicle's previous trip,
because the car is charged and refuelled between Torque sessions.
"""

from __future__ import annotations

from datetime import datetime

from telemetry.charging import charging_record_reading
from telemetry.charging_core import charge_signal
from telemetry.models import Trip, Vehicle
from telemetry.refuel import refuel_record_reading
from telemetry.refuel_core import fuel_level, refuel_step, standing_speed


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
    level = fuel_level(values)
    if level is not None:
        updates["fuel_window"] = refuel_record_reading(vehicle=vehicle, trip=trip, at=at, level=level,
                                                       odometer_miles=values.get("odometer_miles"),
                                                       speed_mph=standing_speed(values))
    session = charging_record_reading(vehicle=vehicle, trip=trip, at=at, signal=charge_signal(values), values=values)
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
    if new_trip or trip.charging_session_id is not None or charge_signal(values).kind == "charging":
        return None
    level = fuel_level(values)
    if level is None:
        return {}
    window, found = refuel_step(trip.fuel_window, at, level, values.get("odometer_miles"),
                                speed_mph=standing_speed(values))
    return {"fuel_window": window} if found is None else None
