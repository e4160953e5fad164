"""Storing one parsed Torque upload: reading, trip bookkeeping, PID metadata."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from logging_policy.current import current_event
from logging_policy.error_codes import classify_exception
from logging_policy.events import WideEvent
from telemetry.enqueue import TRIP_FINALIZE, task_enqueue_on_commit
from telemetry.gasmode import ENGINE_ON_RPM
from telemetry.models import PidDescription, Reading, Trip, Vehicle
from telemetry.parked import parked_record_reading, parked_step_without_queries
from telemetry.soc import soc_of, soc_pick
from telemetry.torque import TorqueUpload
from telemetry.trips import trip_for_session, trip_gas_step, trip_previous_open_claim, trip_record_reading
from telemetry.upload_sql import reading_insert, reading_insert_and_count

Outcome = Literal["stored", "duplicate", "metadata", "notice"]



@dataclass(frozen=True, slots=True)
class IngestResult:
    outcome: Outcome
    reading_id: int | None = None
    trip_id: int | None = None
    trip_created: bool = False
    gas_mode_entered: bool = False


def vehicle_device_learn(*, vehicle: Vehicle, device_id: str) -> None:
    """Remember the phone's Torque id; one UPDATE on the first upload (or a new phone)."""
    if device_id and vehicle.torque_device_id != device_id:
        Vehicle.objects.filter(pk=vehicle.pk).update(torque_device_id=device_id)
        vehicle.torque_device_id = device_id


def pid_descriptions_store(*, vehicle: Vehicle, upload: TorqueUpload) -> int:
    """Upsert the PID names and units of a metadata message; fields it does not mention are kept."""
    by_fields: dict[tuple[str, ...], list[PidDescription]] = {}
    for meta in upload.metadata.values():
        present = tuple(
            name for name in ("full_name", "short_name", "user_unit", "default_unit") if getattr(meta, name)
        )
        if present:
            by_fields.setdefault(present, []).append(
                PidDescription(vehicle=vehicle, pid=meta.pid, **{name: getattr(meta, name) for name in present})
            )
    for present, rows in by_fields.items():
        PidDescription.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["vehicle", "pid"], update_fields=[*present, "updated_at"]
        )
    return sum(len(rows) for rows in by_fields.values())


def upload_ingest(*, vehicle: Vehicle, upload: TorqueUpload, trip: Trip | None) -> IngestResult:
    """Store one upload. A reading is stored at most once per (vehicle, session, time).

    The event's `telemetry.outcome` is set here, with what else the outcome sets (one `set` call each).

    `trip` is the vehicle's trip for the upload's session as read with the vehicle (None: not yet).
    """
    event = current_event()
    vehicle_device_learn(vehicle=vehicle, device_id=upload.device_id)
    if upload.kind == "metadata":
        with event.timer("db_insert"):
            count = pid_descriptions_store(vehicle=vehicle, upload=upload)
        event.set("telemetry", message_kind="metadata", pids_described=count, outcome="metadata")
        return IngestResult("metadata")
    if upload.kind == "notice":
        event.set("telemetry", message_kind="notice", outcome="notice")
        return IngestResult("notice")

    assert upload.recorded_at is not None
    at = upload.recorded_at
    ref = trip_for_session(vehicle=vehicle, session=upload.session, trip_key=upload.trip_key, at=at, found=trip)
    trip = ref.trip
    event.set("trip", id=trip.pk, created=ref.created, is_closed=trip.is_closed,
              readings_before=trip.reading_count, gas_mode_active=trip.gas_mode_entered_at is not None)
    if ref.created:
        event.fact("trip_created")
        previous = trip_previous_open_claim(vehicle=vehicle, except_trip_id=trip.pk, started_before=at)
        for trip_id in previous:
            task_enqueue_on_commit(TRIP_FINALIZE, trip_id)
        event.set("trip", previous_trips_closed=len(previous))

    values = upload.values
    in_order = at >= trip.last_reading_at  # the detectors need time order
    # The trip's first stored reading inherits the parked state (fuel window, charging) of the last trip;
    # counted, not `created`, so a first reading refused with a 503 and retried still inherits.
    first_reading = ref.created or trip.reading_count == 0
    parked: dict[str, object] | None = {}
    if in_order:
        with event.timer("parked_detect"):
            parked = parked_step_without_queries(trip=trip, at=at, values=values, new_trip=first_reading)
    if parked is not None and connection.vendor == "postgresql":
        # Steady state: the reading and its trip's counters, gas and parked state in one statement.
        gas, entered = trip_gas_step(trip=trip, at=at, rpm=values.get("engine_rpm"), soc=soc_of(values))
        received_at = timezone.now()
        row = {**values, "vehicle_id": vehicle.pk, "trip_id": trip.pk, "session": upload.session, "recorded_at": at,
               "received_at": received_at, "raw": upload.unknown, "rejected": upload.rejected}
        with event.timer("db_insert"):
            reading_id = reading_insert_and_count(row, at=at, received_at=received_at, also={**gas, **parked})
        if reading_id is not None and entered:
            trip.gas_mode_entered_at, trip.soc_at_gas_entry = gas["gas_mode_entered_at"], gas["soc_at_gas_entry"]
    else:
        reading = Reading(vehicle=vehicle, trip=trip, session=upload.session, recorded_at=at,
                          raw=upload.unknown, rejected=upload.rejected, **values)
        reading_id, entered = _reading_store(vehicle=vehicle, trip=trip, reading=reading, values=values,
                                             run_parked=in_order, new_trip=first_reading)
    if reading_id is None:
        event.set("telemetry", stored=False, duplicate=True, outcome="duplicate")
        return IngestResult("duplicate", trip_id=trip.pk, trip_created=ref.created)
    if entered:
        event.fact("gas_mode_entered")
        event.set("trip", gas_mode_entered_at=trip.gas_mode_entered_at, soc_at_gas_entry=trip.soc_at_gas_entry)
    if trip.is_closed:
        event.set("trip", reopened=True)
    event.set("telemetry", stored=True, duplicate=False, reading_id=reading_id, outcome="stored")
    return IngestResult("stored", reading_id=reading_id, trip_id=trip.pk, trip_created=ref.created,
                        gas_mode_entered=entered)


def _reading_store(*, vehicle: Vehicle, trip: Trip, reading: Reading, values: dict[str, float], run_parked: bool,
                   new_trip: bool) -> tuple[int | None, bool]:
    """Insert, then the detectors that write rows of their own, then the trip's UPDATE: (reading id, gas entered).

    For SQLite (no INSERT in a CTE) and for readings whose detectors need queries, which must not run
    for a duplicate. The reading and its trip's counters commit together: one commit (one WAL flush)
    instead of two, and no reading without its count. No savepoint when nested. If it rolls back, the
    event forgets what the detectors set in it (a charging session that was never stored, say).

    A deadlock aborts the transaction (docs/charging.md, "Concurrency"): when the transaction is this
    function's own, it runs once more, by then the other side has finished, instead of a 503 to the phone.
    """
    retry = not transaction.get_connection().in_atomic_block
    while True:
        try:
            return _reading_store_once(vehicle=vehicle, trip=trip, reading=reading, values=values,
                                       run_parked=run_parked, new_trip=new_trip)
        except OperationalError as exc:
            if not retry or classify_exception(exc).code != "E204":
                raise
            retry = False
            trip.refresh_from_db()  # the detectors may have moved the trip object before the rollback
            current_event().note_warning("E204", "A deadlock aborted the reading's transaction; it ran again.")


def _reading_store_once(*, vehicle: Vehicle, trip: Trip, reading: Reading, values: dict[str, float],
                        run_parked: bool, new_trip: bool) -> tuple[int | None, bool]:
    event = current_event()
    at = reading.recorded_at
    with event.rollback_guard(), transaction.atomic(savepoint=False):
        with event.timer("db_insert"):
            reading_id = reading_insert(reading)
        if reading_id is None:
            return None, False
        parked: dict[str, object] = {}
        if run_parked:
            with event.timer("parked_detect"):
                parked = parked_record_reading(vehicle=vehicle, trip=trip, at=at, values=values, new_trip=new_trip)
        with event.timer("trip_update"):
            entered = trip_record_reading(trip=trip, at=at, rpm=values.get("engine_rpm"),
                                          soc=soc_of(values), also=parked)
    return reading_id, entered


def upload_describe(upload: TorqueUpload, event: WideEvent | None = None) -> dict[str, object]:
    """What the reading held, for `event` (the current one by default): facts, not the raw values (no
    exact position). The session is the client's text: `event` learns the secrets it may hold."""
    v = upload.values
    rpm = v.get("engine_rpm")
    soc, soc_source = soc_pick(v.get("soc_pct"), v.get("soc_raw_pct"))
    charger = v.get("charger_status")
    return {
        "message_kind": upload.kind,
        "protocol_version": upload.protocol_version,
        "session": (event or current_event()).client_text(upload.session, 64),
        "trip_key": upload.trip_key,
        "reading_at": upload.recorded_at,  # orjson writes it as isoformat() would, without a 1 us call here
        "key_count": upload.key_count,
        "value_count": len(v),
        "unknown_key_count": len(upload.unknown),
        "rejected_keys": sorted(upload.rejected)[:50],
        "rejected_count": len(upload.rejected),
        "soc_pct": soc,
        "soc_source": soc_source or None,
        "odometer_miles": v.get("odometer_miles"),
        "speed_mph": v.get("speed_mph", v.get("gps_speed_mph")),
        "hv_power_kw": v.get("hv_power_kw"),
        "engine_rpm": rpm,
        "engine_running": rpm is not None and rpm >= ENGINE_ON_RPM,
        "has_gps": "latitude" in v and "longitude" in v,
        "charger_connected": charger is not None and charger > 0,
        "ambient_temp_f": v.get("ambient_temp_f"),
        "fuel_level_pct": v.get("volt_fuel_level_pct", v.get("fuel_level_pct")),
        "battery_capacity_kwh": v.get("battery_capacity_kwh"),
    }
