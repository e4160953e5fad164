"""Charging sessions: opened, advanced and closed from stored readings (services).

Lifetime totals (kWh charged, sessions) are computed in SQL with the other statistics (telemetry/stats.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from logging_policy.current import current_event
from telemetry.charging_core import (
    ChargeSignal, CloseReason, SessionState, session_figures, session_is_stale, session_location, session_open, session_step,
    session_touched,
)
from telemetry.insert_once import insert_once
from telemetry.models import ChargingSession, Trip, Vehicle

_STATE_FIELDS = tuple(SessionState.__dataclass_fields__)


def session_state_of(session: ChargingSession) -> SessionState:
    return SessionState(**{name: getattr(session, name) for name in _STATE_FIELDS})


def session_apply(session: ChargingSession, state: SessionState, usable_kwh: float) -> dict[str, object]:
    """Set the state and its figures on the row object; returns the fields set, for an UPDATE."""
    figures = session_figures(state, usable_kwh)
    fields: dict[str, object] = {name: getattr(state, name) for name in _STATE_FIELDS}
    fields.update(kwh_added=figures.kwh_added, kwh_source=figures.kwh_source, avg_power_kw=figures.avg_power_kw,
                  level=figures.level)
    for name, value in fields.items():
        setattr(session, name, value)
    return fields


def _session_insert(*, vehicle: Vehicle, at: datetime, signal: ChargeSignal,
                    values: dict[str, float]) -> ChargingSession | None:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: the new session, or None if one is already open."""
    session = ChargingSession(vehicle=vehicle, last_received_at=timezone.now())
    session.latitude, session.longitude = session_location(values) or (None, None)
    session_apply(session, session_open(at, signal, values.get("soc_pct")), vehicle.usable_battery_kwh)
    return session if insert_once(session) else None


def charging_sessions_close(*, reason: CloseReason, session_id: int | None = None,
                            received_before: datetime | None = None) -> list[int]:
    """Close the open session `session_id`, or every open one with no charging upload since `received_before`
    (server clock), and unlink them from trips; the ids closed. Two queries, three for the beat's sweep.

    Trip rows are taken first, in id order, and the sessions after: finalization locks its trip and then
    the trip's sessions, so closing in the other order deadlocked a drive setting off while the charging
    trip was finalized. The sessions' UPDATE decides which are open (and stale) under their row locks,
    so an upload that advanced a session meanwhile keeps it open (docs/charging.md, "Concurrency").
    """
    adapt = connection.ops.adapt_datetimefield_value  # as the ORM stores times (naive UTC text on SQLite)
    value: object
    # The locks last until the caller's transaction ends (the upload's), or this one's (the beat's).
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if session_id is not None:
            condition, value = '"id" = %s', session_id
            _trips_unlink(Trip.objects.filter(charging_session_id=session_id))
        else:
            condition, value = '"last_received_at" < %s', adapt(received_before)
            stale = ChargingSession.objects.filter(is_complete=False, last_received_at__lt=received_before)
            list(_trips_locked(Trip.objects.filter(charging_session__in=stale)))
        cursor.execute(
            f'UPDATE "{ChargingSession._meta.db_table}" SET "is_complete" = %s, "closed_at" = %s, '
            f'"closed_reason" = %s WHERE NOT "is_complete" AND {condition} RETURNING "id"',
            [True, adapt(timezone.now()), reason, value],
        )
        ids = sorted(row[0] for row in cursor.fetchall())
        if ids and session_id is None:
            _trips_unlink(Trip.objects.filter(charging_session_id__in=ids))
    if ids:
        event = current_event()
        event.fact("charging_session_closed")
        if session_id is not None:
            event.set("charging", closed_session_id=session_id, closed_reason=reason)
    return ids


def _trips_locked(trips: QuerySet[Trip]) -> QuerySet[Trip, int]:
    """The trips' ids, locked in id order (FOR NO KEY UPDATE: an upload's INSERT of a reading into one of
    them, which holds KEY SHARE on it, need not wait)."""
    return trips.select_for_update(no_key=True).order_by("pk").values_list("pk", flat=True)


def _trips_unlink(trips: QuerySet[Trip]) -> None:
    """Unlink the trips from their charging session, taking them in id order. One UPDATE."""
    Trip.objects.filter(pk__in=_trips_locked(trips)).update(charging_session=None)


def charging_record_reading(*, vehicle: Vehicle, trip: Trip, at: datetime, signal: ChargeSignal,
                            values: dict[str, float]) -> ChargingSession | None:
    """Apply one stored, in-order reading to the vehicle's open session; returns the session the trip links.

    No query unless the reading is charging or the trip links an open session: a
    drive costs nothing here. A moving car closes its session at once; a parked,
    non-charging reading pauses it (a charge resumed within CHARGING_GAP_SECONDS is
    the same session). Runs in the caller's transaction: the trip and session rows
    stay locked until it commits.
    """
    link = trip.charging_session_id
    if not session_touched(signal, linked=link is not None):
        return None
    if signal.kind == "moving":
        if link is not None:  # always: a moving reading touches only a linked session
            charging_sessions_close(session_id=link, reason="drove_off")
        return None
    open_sessions = ChargingSession.objects.filter(vehicle=vehicle, is_complete=False)
    # Trips before sessions (docs/charging.md, "Concurrency"): this trip and those carrying the vehicle's
    # open session, which closing it unlinks, in id order; then the session.
    list(_trips_locked(Trip.objects.filter(Q(pk=trip.pk) | Q(charging_session_id__in=open_sessions.values("pk")))))
    open_sessions = open_sessions.select_for_update()
    session = open_sessions.filter(pk=link).first() if link else open_sessions.first()
    if session is not None and session_is_stale(session_state_of(session), at, float(settings.CHARGING_GAP_SECONDS)):
        charging_sessions_close(session_id=session.pk, reason="stale")
        session = None
    event = current_event()
    if session is None:
        if signal.kind != "charging":
            return None
        created = _session_insert(vehicle=vehicle, at=at, signal=signal, values=values)
        if created is not None:
            event.fact("charging_session_started")
            event.set("charging", session_id=created.pk, state="opened", level=created.level,
                      power_kw=signal.power_kw)
            return created
        # Another upload of the vehicle opened one since our read (one open session per vehicle): this
        # reading advances it. None: a session starting at this very time is stored already (closed).
        session = open_sessions.first()
        if session is None:
            return None
    state = session_step(session_state_of(session), at, signal, values.get("soc_pct"))
    fields = session_apply(session, state, vehicle.usable_battery_kwh)
    if signal.kind == "charging":
        fields["last_received_at"] = timezone.now()
    ChargingSession.objects.filter(pk=session.pk).update(**fields)
    event.set("charging", session_id=session.pk, state="charging" if signal.kind == "charging" else "paused",
              kwh_added=session.kwh_added, level=session.level, readings=session.reading_count)
    return session


def charging_sessions_close_stale(*, now: datetime | None = None) -> int:
    """Close every session with no charging upload for CHARGING_GAP_SECONDS (server clock), for the beat."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.CHARGING_GAP_SECONDS)
    return len(charging_sessions_close(received_before=cutoff, reason="stale"))
