"""Charging sessions: opened, advanced and closed from stored readings (services); totals (selector)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Sum
from django.utils import timezone

from logging_policy.current import current_event
from telemetry.charging_core import (
    ChargeSignal, SessionState, session_figures, session_is_stale, session_location, session_open, session_step,
    session_touched,
)
from telemetry.insert_once import insert_once
from telemetry.models import ChargingSession, Trip, Vehicle

_STATE_FIELDS = tuple(SessionState.__dataclass_fields__)
# Optimistic concurrency: a session row changed between our read and our write is re-read.
_CAS_ATTEMPTS = 3


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


def charging_session_close(*, session_id: int, reason: str) -> bool:
    """Mark the session complete and unlink it from trips; False if it already was."""
    closed = ChargingSession.objects.filter(pk=session_id, is_complete=False).update(
        is_complete=True, closed_at=timezone.now(), closed_reason=reason
    )
    Trip.objects.filter(charging_session_id=session_id).update(charging_session=None)
    if closed:
        event = current_event()
        event.fact("charging_session_closed")
        event.set("charging", closed_session_id=session_id, closed_reason=reason)
    return bool(closed)


def charging_record_reading(*, vehicle: Vehicle, trip: Trip, at: datetime, signal: ChargeSignal,
                            values: dict[str, float]) -> ChargingSession | None:
    """Apply one stored, in-order reading to the vehicle's open session; returns the session the trip links.

    No query unless the reading is charging or the trip links an open session: a
    drive costs nothing here. A moving car closes its session at once; a parked,
    non-charging reading pauses it (a charge resumed within the stale window is
    the same session).
    """
    link = trip.charging_session_id
    if not session_touched(signal, linked=link is not None):
        return None
    if signal.kind == "moving":
        if link is not None:  # always: a moving reading touches only a linked session
            charging_session_close(session_id=link, reason="drove_off")
        return None
    open_sessions = ChargingSession.objects.filter(vehicle=vehicle, is_complete=False)
    session = open_sessions.filter(pk=link).first() if link else open_sessions.first()
    stale_s = float(settings.TRIP_STALE_SECONDS)
    soc = values.get("soc_pct")
    event = current_event()
    for _ in range(_CAS_ATTEMPTS):
        if session is not None and session_is_stale(session_state_of(session), at, stale_s):
            charging_session_close(session_id=session.pk, reason="stale")
            session = None
        if session is None:
            if signal.kind != "charging":
                return None
            created = _session_insert(vehicle=vehicle, at=at, signal=signal, values=values)
            if created is not None:
                event.fact("charging_session_started")
                event.set("charging", session_id=created.pk, state="opened", level=created.level,
                          power_kw=signal.power_kw)
                return created
            session = open_sessions.first()  # another upload opened it first
            continue
        before = session.last_reading_at
        state = session_step(session_state_of(session), at, signal, soc)
        fields = session_apply(session, state, vehicle.usable_battery_kwh)
        if signal.kind == "charging":
            fields["last_received_at"] = timezone.now()
        if ChargingSession.objects.filter(pk=session.pk, is_complete=False, last_reading_at=before).update(**fields):
            event.set("charging", session_id=session.pk, state="charging" if signal.kind == "charging" else "paused",
                      kwh_added=session.kwh_added, level=session.level, readings=session.reading_count)
            return session
        session = open_sessions.filter(pk=session.pk).first()
    # Uploads of one vehicle racing on one session: rare (Torque uploads in order); this reading is skipped.
    event.set("charging", state="conflict")
    return session


def charging_sessions_close_stale(*, now: datetime | None = None) -> int:
    """Close every session with no charging upload for the stale window (server clock). Two queries."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.TRIP_STALE_SECONDS)
    stale = ChargingSession.objects.filter(is_complete=False, last_received_at__lt=cutoff)
    ids = list(stale.values_list("pk", flat=True))
    if ids:
        ChargingSession.objects.filter(pk__in=ids, is_complete=False).update(
            is_complete=True, closed_at=timezone.now(), closed_reason="stale"
        )
        Trip.objects.filter(charging_session_id__in=ids).update(charging_session=None)
        current_event().fact("charging_session_closed")
    return len(ids)


@dataclass(frozen=True, slots=True)
class ChargingTotals:
    sessions: int
    kwh_added: float


def charging_totals_by_vehicle(*, vehicle_ids: Iterable[int] | None = None) -> dict[int, ChargingTotals]:
    """Sessions and kWh charged per vehicle (open sessions count with their kWh so far). One query."""
    rows = ChargingSession.objects.all()
    if vehicle_ids is not None:
        rows = rows.filter(vehicle_id__in=list(vehicle_ids))
    totals = rows.order_by().values("vehicle_id").annotate(sessions=Count("id"), kwh=Sum("kwh_added"))
    return {r["vehicle_id"]: ChargingTotals(r["sessions"], round(r["kwh"] or 0.0, 3)) for r in totals}
