"""Trip services: open a trip for a session, advance gas-mode detection, finalize."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest, Least
from django.utils import timezone

from logging_policy.current import current_event
from telemetry.battery import battery_sample_record, vehicle_battery_context
from telemetry.charging_core import ChargeReading
from telemetry.charging_replay import charge_readings, charging_sessions_replay
from telemetry.enqueue import VEHICLE_STATS_REFRESH, task_enqueue_on_commit
from telemetry.gasmode import EngineSample, GasState, gas_mode_replay, gas_mode_step, gas_mode_without_soc
from telemetry.insert_once import insert_once
from telemetry.models import Reading, Trip, Vehicle
from telemetry.refuel import refuels_replay
from telemetry.soc import SocSource, pack_share, soc_from, trip_soc_source
from telemetry.trip_weather import trip_weather_enqueue
from telemetry.trip_metrics import Sample, trip_metrics_compute
from telemetry.upload_sql import trip_by_key, trip_counters_update
from telemetry.vehicle_context import vehicle_context_add_by_id

logger = logging.getLogger(__name__)

_SAMPLE_FIELDS = (
    "recorded_at", "odometer_miles", "trip_distance_miles", "speed_mph", "gps_speed_mph", "hv_power_kw",
    "soc_pct", "trip_fuel_gallons", "volt_fuel_level_pct", "fuel_level_pct", "ambient_temp_f",
    "battery_capacity_kwh", "engine_rpm", "charger_status", "charger_power_kw", "latitude", "longitude",
    "soc_raw_pct",
)


_METRIC_FIELDS = (
    "distance_miles", "distance_source", "electric_miles", "gas_miles", "electric_kwh_used", "regen_kwh",
    "kwh_per_mile", "fuel_used_gallons", "gas_mpg", "ambient_temp_f", "start_soc", "end_soc",
    "battery_capacity_kwh", "soc_source", "is_drive", "is_plausible", "notes",
)


@dataclass(frozen=True, slots=True)
class TripRef:
    trip: Trip
    created: bool


def trip_for_session(*, vehicle: Vehicle, session: str, trip_key: str, at: datetime,
                     found: Trip | None) -> TripRef:
    """The trip of (vehicle, session), created on first sight; safe under concurrent uploads.

    `found` is the trip as read with the vehicle (telemetry/auth.py), or None when it had none.

    Creation is `insert_once` (INSERT ... ON CONFLICT DO NOTHING RETURNING id): of many requests
    racing to open the same session exactly one gets the id back (and reports
    `trip_created`); the others read the row it made. No savepoints, no retries.
    """
    if found is not None:
        return TripRef(found, created=False)
    now = timezone.now()
    candidate = Trip(vehicle=vehicle, session=session, trip_key=trip_key, started_at=at,
                     last_reading_at=at, last_received_at=now)
    if insert_once(candidate):
        return TripRef(candidate, created=True)
    trip = trip_by_key(vehicle_id=vehicle.pk, trip_key=trip_key)
    assert trip is not None  # the row that conflicted (trips are not deleted while their vehicle uploads)
    return TripRef(trip, created=False)


def trip_previous_open_claim(*, vehicle: Vehicle, except_trip_id: int, started_before: datetime) -> list[int]:
    """Open trips of the vehicle that started before the new one, which a new session ends, not yet queued
    for finalization: marked queued in the same statement, for the caller to finalize or queue.

    A session that turns up late (its phone was offline) must not end the trip being driven now.
    Without the mark every new session re-queued every earlier trip still open: N single-reading
    sessions queued N²/2 finalizations. With it each trip is claimed once, and once more after each
    new reading (which clears the mark); one that fails to finalize is left to the stale sweep, which
    does not look at the mark. One UPDATE ... RETURNING.
    """
    table = Trip._meta.db_table
    adapt = connection.ops.adapt_datetimefield_value  # as the ORM stores times (naive UTC text on SQLite)
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{table}" SET "finalize_queued_at" = %s WHERE "vehicle_id" = %s AND NOT "is_closed" '
            f'AND "started_at" < %s AND "id" <> %s AND "finalize_queued_at" IS NULL RETURNING "id"',
            [adapt(timezone.now()), vehicle.pk, adapt(started_before), except_trip_id],
        )
        return sorted(row[0] for row in cursor.fetchall())


def trip_gas_step(*, trip: Trip, at: datetime, rpm: float | None,
                  soc: float | None) -> tuple[dict[str, Any], bool]:
    """Advance gas-mode detection by one reading: the trip fields to write, and True if gas mode began.

    No query. Out-of-order readings (older than the newest one) do not drive the detector, which needs
    time order. Two uploads of one trip racing could each step the detector from the same state;
    Torque uploads a session sequentially, so that race is accepted.
    """
    updates: dict[str, Any] = {}  # field values of several types, for one UPDATE
    entered = False
    if at >= trip.last_reading_at and trip.gas_mode_entered_at is None:
        before = GasState(trip.engine_on_since, trip.engine_on_soc, None, None)
        after = gas_mode_step(before, at, rpm, soc)
        if after != before:
            updates.update(engine_on_since=after.engine_on_since, engine_on_soc=after.engine_on_soc)
            if after.entered_at is not None:
                entered = True
                updates.update(gas_mode_entered_at=after.entered_at, soc_at_gas_entry=after.soc_at_entry)
    return updates, entered


def trip_record_reading(*, trip: Trip, at: datetime, rpm: float | None, soc: float | None,
                        also: Mapping[str, object] | None = None) -> bool:
    """Count a newly stored reading on its trip and advance gas detection; True if gas mode began.

    One UPDATE (telemetry/upload_sql.py).
    """
    updates, entered = trip_gas_step(trip=trip, at=at, rpm=rpm, soc=soc)
    if entered:
        trip.gas_mode_entered_at, trip.soc_at_gas_entry = updates["gas_mode_entered_at"], updates["soc_at_gas_entry"]
    trip_counters_update(trip_id=trip.pk, at=at, received_at=timezone.now(), also={**updates, **(also or {})})
    return entered


def _trip_rows(trip: Trip) -> list[tuple[Any, ...]]:
    """The trip's readings in time order, as `_SAMPLE_FIELDS` (recorded_at first). One query."""
    return list(Reading.objects.filter(trip=trip).order_by("recorded_at").values_list(*_SAMPLE_FIELDS))


def _samples(rows: list[tuple[Any, ...]]) -> tuple[list[Sample], GasState, list[ChargeReading], SocSource]:
    """The readings' samples, gas-mode detection replayed over them, their charging values and the trip's
    SOC source. No query."""
    source = trip_soc_source((r[6], r[17]) for r in rows)
    samples = [
        Sample(
            at=r[0], odometer_miles=r[1], trip_distance_miles=r[2],
            speed_mph=r[3] if r[3] is not None else r[4], obd_speed_mph=r[3], hv_power_kw=r[5],
            soc_pct=soc_from(source, r[6], r[17]), trip_fuel_gallons=r[7],
            fuel_level_pct=r[8] if r[8] is not None else r[9], ambient_temp_f=r[10], battery_capacity_kwh=r[11],
        )
        for r in rows
    ]
    if source:
        gas = gas_mode_replay((s.at, r[12], s.soc_pct) for s, r in zip(samples, rows, strict=True))
    else:
        entered = gas_mode_without_soc([EngineSample(s.at, r[12], s.speed_mph, s.fuel_level_pct)
                                        for s, r in zip(samples, rows, strict=True)])
        gas = GasState(entered_at=entered)
    return samples, gas, charge_readings(rows, _SAMPLE_FIELDS), source


def trip_finalize(*, trip_id: int) -> Trip | None:
    """Close the trip and compute its figures; idempotent (a closed trip is left alone).

    A session with a pause no drive has (longer than TRIP_SPLIT_GAP_SECONDS between readings) is split there,
    as Torque would have split it had it restarted: the readings after the gap go to the session's next
    trip, which is finalized in the same call (and split again if it has another gap). The event
    describes the trip asked for; `trip.split_off` lists the trips the gaps made.
    """
    event = current_event()
    vehicle_ids: list[int] = []
    try:
        trip, next_id = _trip_close(trip_id=trip_id, describe=True, vehicle_ids=vehicle_ids)
        while next_id is not None:
            event.append("trip", "split_off", next_id)
            _, next_id = _trip_close(trip_id=next_id, describe=False, vehicle_ids=vehicle_ids)
    except Exception:
        # The rollback took the vehicle's context off the event with the rest; a failed finalization
        # must still say whose it was (the explorer's "new vehicles with trip errors").
        if vehicle_ids:
            try:
                vehicle_context_add_by_id(vehicle_id=vehicle_ids[0])
            except Exception:  # noqa: BLE001, S110 - the database that failed may be down: the first error stands
                pass
        raise
    return trip


def _trip_close(*, trip_id: int, describe: bool, vehicle_ids: list[int]) -> tuple[Trip | None, int | None]:
    """Finalize one trip: (the trip if this call closed it, the trip its readings after a gap went to).

    The trips a split made (`describe` false) do their work without setting the event's trip fields.
    The trip's vehicle is appended to `vehicle_ids` before any work that may fail.
    """
    event = current_event()
    # A failure rolls back the replays' writes: the event must not keep their facts (a sweep goes on).
    with event.rollback_guard(), transaction.atomic():
        trip = Trip.objects.select_for_update().select_related("vehicle").filter(pk=trip_id).first()
        if trip is None or trip.is_closed:
            if describe:
                event.set("trip", id=trip_id, already_closed=trip is not None)
            return None, None
        vehicle_ids.append(trip.vehicle_id)
        with event.timer("trip_compute"):
            next_id, rows = _trip_split_at_gap(trip, _trip_rows(trip))
            samples, gas, charge, source = _samples(rows)
            # The replay over every reading in time order wins over what uploads saw as they came.
            trip.gas_mode_entered_at, trip.soc_at_gas_entry = gas.entered_at, gas.soc_at_entry
            fills = refuels_replay(trip=trip, samples=samples)
            metrics = trip_metrics_compute(
                samples,
                gas_entered_at=trip.gas_mode_entered_at,
                soc_at_gas_entry=trip.soc_at_gas_entry,
                soc_span_kwh=trip.vehicle.nominal_battery_kwh * pack_share(source),
                tank_gallons=trip.vehicle.fuel_tank_gallons,
                soc_source=source,
                fills=fills,
            )
        for name in _METRIC_FIELDS:
            setattr(trip, name, getattr(metrics, name))
        charging_sessions_replay(trip=trip, readings=charge)
        trip.is_closed = True
        trip.ended_at = trip.last_reading_at
        trip.finalized_at = timezone.now()
        trip.save()
        capacity = battery_sample_record(trip=trip, samples=samples, soc_share=pack_share(source))
        task_enqueue_on_commit(VEHICLE_STATS_REFRESH, trip.vehicle_id)
    trip_weather_enqueue(trip_id=trip.pk)
    if not describe:
        return trip, next_id
    vehicle_context_add_by_id(vehicle_id=trip.vehicle_id)
    event.set("battery", **vehicle_battery_context(vehicle_id=trip.vehicle_id),
              capacity_kwh=capacity.capacity_kwh if capacity else None,
              capacity_is_estimate=capacity.is_estimate if capacity else None)
    event.set(
        "trip",
        id=trip.pk,
        readings=len(samples),
        distance_miles=trip.distance_miles,
        distance_source=trip.distance_source,
        electric_miles=trip.electric_miles,
        gas_miles=trip.gas_miles,
        kwh_per_mile=trip.kwh_per_mile,
        regen_kwh=trip.regen_kwh,
        soc_source=trip.soc_source or None,
        is_drive=trip.is_drive,
        gas_mpg=trip.gas_mpg,
        gas_mode_entered=trip.gas_mode_entered_at is not None,
        duration_s=(trip.last_reading_at - trip.started_at).total_seconds(),
        implausible=sorted(k for k in trip.notes if "E403" in trip.notes[k]),
    )
    event.fact("trip_finalized")
    return trip, next_id


def _trip_split_at_gap(trip: Trip, rows: list[tuple[Any, ...]]) -> tuple[int | None, list[tuple[Any, ...]]]:
    """Move the readings after the trip's first gap longer than TRIP_SPLIT_GAP_SECONDS to the session's next
    trip: (its id, the rows the trip keeps), or (None, `rows`) when the trip has no such gap (no query then).
    `rows` are the trip's readings in time order, recorded_at first (`_trip_rows`).

    The next trip is the session's trip that starts first after the gap, made when there is none. A
    reading that arrives late for a later part of the session lands on the session's first trip (uploads
    find a trip by session) and is moved on from there when that trip is finalized again.
    """
    times = [row[0] for row in rows]
    gap = timedelta(seconds=max(settings.TRIP_SPLIT_GAP_SECONDS, settings.TRIP_STALE_SECONDS))
    cut = next((i for i in range(1, len(times)) if times[i] - times[i - 1] > gap), None)
    if cut is None:
        return None, rows
    before, after = times[:cut], times[cut:]
    following = (Trip.objects.select_for_update()
                 .filter(vehicle_id=trip.vehicle_id, session=trip.session, started_at__gt=before[-1])
                 .exclude(pk=trip.pk).order_by("started_at").first())
    if following is None:
        count = Trip.objects.filter(vehicle_id=trip.vehicle_id, session=trip.session).count()
        following = Trip.objects.create(
            vehicle_id=trip.vehicle_id, session=trip.session, trip_key=_split_key(trip.session, count + 1),
            started_at=after[0], last_reading_at=after[-1], last_received_at=trip.last_received_at,
        )
    moved = Reading.objects.filter(trip=trip, recorded_at__gte=after[0]).update(trip=following)
    Trip.objects.filter(pk=following.pk).update(
        is_closed=False, finalize_queued_at=None, reading_count=F("reading_count") + moved,
        started_at=Least(F("started_at"), after[0]), last_reading_at=Greatest(F("last_reading_at"), after[-1]),
    )
    # Counted after the move: a reading stored meanwhile (before the cut) is not lost from the count.
    trip.last_reading_at, trip.reading_count = before[-1], Reading.objects.filter(trip=trip).count()
    trip.started_at = min(trip.started_at, before[0])
    return following.pk, rows[:cut]


def _split_key(session: str, part: int) -> str:
    """The key of a session's `part`-th trip: hashed like a long session's key (telemetry/torque.py), from
    text with a NUL, which no uploaded session holds (E307), so it can never be a real session's key."""
    return "h:" + hashlib.sha256(f"{session}\0{part}".encode()).hexdigest()[:62]


def trips_stale_ids(*, now: datetime | None = None) -> list[int]:
    """Open trips with no upload for the stale window (server clock); a trip carrying an open charging
    session waits for the charging gap instead, as the charge does: a phone logging a charge every few
    minutes would otherwise have its trip finalized, and reopened, at nearly every reading."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.TRIP_STALE_SECONDS)
    charging_cutoff = now - timedelta(seconds=settings.CHARGING_GAP_SECONDS)
    stale = Trip.objects.filter(is_closed=False, last_received_at__lt=cutoff).filter(
        Q(charging_session__isnull=True) | Q(last_received_at__lt=charging_cutoff))
    return list(stale.values_list("pk", flat=True))
