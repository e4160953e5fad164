"""Charging sessions repaired at trip finalization: the rules replayed over stored readings in time order.

Uploads apply a reading only when it is newer than the newest of its trip, so a charge
uploaded out of order (Torque flushing its backlog newest first) is missed or under-counted
as it arrives. At finalization the same rules (telemetry/charging_core.py) run again over
every reading, and the stored sessions are made to say what the readings say.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from logging_policy.current import current_event
from telemetry.charging import charging_sessions_close, session_apply, session_state_of
from telemetry.charging_core import (
    ChargeReading, SessionRepair, StoredSession, charge_signal, sessions_reconcile, sessions_replay,
)
from telemetry.insert_once import insert_once
from telemetry.models import ChargingSession, Reading, Trip

# The reading columns the charging rules read: the signal, the SOC, where a session opens.
CHARGE_FIELDS = ("speed_mph", "gps_speed_mph", "hv_power_kw", "engine_rpm", "charger_status", "charger_power_kw",
                 "soc_pct", "latitude", "longitude")


def charge_readings(rows: Iterable[Sequence[Any]], fields: Sequence[str]) -> list[ChargeReading]:
    """`(recorded_at, values)` from `values_list` rows of `fields`, which hold recorded_at and CHARGE_FIELDS."""
    at = fields.index("recorded_at")
    columns = [(name, fields.index(name)) for name in CHARGE_FIELDS]
    return [(row[at], {name: row[i] for name, i in columns if row[i] is not None}) for row in rows]


def _readings_between(*, vehicle_id: int, start: datetime, end: datetime) -> list[ChargeReading]:
    """The vehicle's readings from `start` to `end` in time order, whichever trips hold them. One query."""
    trips = Trip.objects.filter(vehicle_id=vehicle_id, started_at__lte=end, last_reading_at__gte=start).values("pk")
    fields = ("recorded_at", *CHARGE_FIELDS)
    rows = (Reading.objects.filter(trip_id__in=trips, recorded_at__range=(start, end))
            .order_by("recorded_at").values_list(*fields))
    return charge_readings(rows, fields)


def charging_sessions_replay(*, trip: Trip, readings: Sequence[ChargeReading]) -> None:
    """At finalization: replay the charging rules over the trip's readings (time order) and repair the
    stored sessions to match: store those the uploads missed, rewrite those they got wrong, merge those
    they split. Rows that already match are not written, so a second run changes nothing.

    A session can span trips (Torque restarting its log mid-charge), so the replay covers the whole span
    of the stored sessions touching the trip or within the charging gap of it. No query for a trip without
    a charging reading; else one (those sessions, locked against uploads advancing them meanwhile), one
    more when they reach into other trips (the readings of the span), and the writes of each repair.
    """
    if not any(charge_signal(values).kind == "charging" for _, values in readings):
        return
    gap_s = float(settings.CHARGING_GAP_SECONDS)
    first, last = readings[0][0], readings[-1][0]
    # Within the charging gap on both sides: a session started just after the trip's last reading may be
    # this charge going on in the next Torque session, which the uploads could not join (the trip's
    # readings came late, behind that session's newer ones).
    gap = timedelta(seconds=gap_s)
    touching = ChargingSession.objects.filter(vehicle_id=trip.vehicle_id, started_at__lte=last + gap,
                                              last_reading_at__gte=first - gap)
    rows = list(touching.select_for_update().order_by("started_at"))
    start, end = min([first, *(r.started_at for r in rows)]), max([last, *(r.last_reading_at for r in rows)])
    if (start, end) != (first, last):
        readings = _readings_between(vehicle_id=trip.vehicle_id, start=start, end=end)
    replayed = sessions_replay(readings, gap_s)
    repairs = sessions_reconcile(replayed, [StoredSession(r.pk, session_state_of(r), r.is_complete) for r in rows])
    touched = {i for rep in repairs for i in (rep.session_id, *rep.merged_ids) if i is not None}
    kwh_before = sum(r.kwh_added or 0.0 for r in rows if r.pk in touched)
    done = _repairs_apply(trip=trip, repairs=repairs, rows={r.pk: r for r in rows})
    if trip.charging_session_id in done.unlinked:
        trip.charging_session_id = None  # the trip row is saved after this: keep the unlink
    event = current_event()
    if done.added:
        event.fact("charging_session_started")
    event.set("charging", replayed={
        "sessions": len(replayed), "added": done.added, "repaired": done.repaired, "merged": done.merged,
        "kwh_change": round(done.kwh_after - kwh_before, 4),
    })


@dataclass(slots=True)
class _Done:
    added: int = 0
    repaired: int = 0
    merged: int = 0
    kwh_after: float = 0.0  # of the rows written
    unlinked: set[int] = field(default_factory=set)  # rows deleted or closed: no trip may link them


def _repairs_apply(*, trip: Trip, repairs: Sequence[SessionRepair], rows: dict[int, ChargingSession]) -> _Done:
    """Write the repairs; merged rows go first, so that the kept row can take their start time."""
    done = _Done()
    if not repairs:
        return done
    usable_kwh = trip.vehicle.usable_battery_kwh
    now = timezone.now()
    for repair in repairs:
        found = repair.replayed
        if repair.merged_ids:
            ChargingSession.objects.filter(pk__in=repair.merged_ids).delete()
            done.merged += len(repair.merged_ids)
            done.unlinked.update(repair.merged_ids)
        if repair.session_id is None:
            # The trip is over: a session the uploads missed is stored closed (the open one, if the car
            # still charges, is the uploads' to advance).
            session = ChargingSession(vehicle_id=trip.vehicle_id, last_received_at=now, is_complete=True,
                                      closed_at=now, closed_reason=found.closed_reason or "stale")
            session.latitude, session.longitude = found.location or (None, None)
            session_apply(session, found.state, usable_kwh)
            if insert_once(session):
                done.added += 1
                done.kwh_after += session.kwh_added or 0.0
            continue
        session = rows[repair.session_id]
        fields = session_apply(session, found.state, usable_kwh)
        if found.location is not None:
            fields["latitude"], fields["longitude"] = found.location
        ChargingSession.objects.filter(pk=session.pk).update(**fields)
        done.repaired += 1
        done.kwh_after += session.kwh_added or 0.0
        if repair.close:
            charging_sessions_close(session_id=session.pk, reason=found.closed_reason)
            done.unlinked.add(session.pk)
    return done
