"""Charging detection and session arithmetic. Pure: plain values in, dataclasses out.

A reading is a *charging* reading when the charger says it is plugged (`k220057` > 0) and
either reports power itself (`k22006e`) or the HV battery takes power (negative `k22000b`)
with the car standing still and the engine off (with the engine on, a standing Volt in Hold
mode also charges its pack: that is not a charge). Without the charger's status nothing is a
charge: the last regen as the car stops looks the same as a plug (the real logs show -0.6 and
-1.1 kW at standstill, with no charger PID uploaded).
A session accumulates consecutive charging readings; `docs/charging.md` has the rules.
The same rules replay a trip's stored readings in time order at finalization
(`sessions_replay`), and `sessions_reconcile` says what the stored rows need to match.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from statistics import median
from typing import Literal

from telemetry.gasmode import ENGINE_ON_RPM

# Below these the sensors report noise, not a charge or a drive. The smallest real charge, a
# 120 V cord at its 8 A setting, draws about 1 kW: 0.5 kW leaves room and keeps trickles out.
MIN_CHARGE_KW = 0.5
MOVING_MPH = 0.5
# SAE J1772 L1 (120 V) tops out near 1.9 kW; DC fast chargers start around 20 kW.
L1_MAX_KW = 1.9
DCFC_MIN_KW = 20.0
# The power curve keeps at most this many points: when full, every other point goes and
# the spacing doubles, so a 12-hour L1 charge and a 20-minute DCFC stop both fit.
MAX_CURVE_POINTS = 240
FIRST_CURVE_STRIDE_S = 15

ReadingKind = Literal["charging", "moving", "idle"]
Level = Literal["L1", "L2", "DCFC", ""]
KwhSource = Literal["charger_power", "battery_power", "soc", ""]
CloseReason = Literal["drove_off", "stale", ""]
# One stored reading: its time and its values by stored field name (docs/units.md), empty ones left out.
ChargeReading = tuple[datetime, dict[str, float]]


@dataclass(frozen=True, slots=True)
class ChargeSignal:
    kind: ReadingKind
    power_kw: float | None = None  # charging power, when `kind == "charging"`
    source: KwhSource = ""


def charge_signal(values: dict[str, float]) -> ChargeSignal:
    """Classify one reading's values (stored field names, docs/units.md)."""
    status = values.get("charger_status")
    charger_kw = values.get("charger_power_kw")
    hv_kw = values.get("hv_power_kw")
    speed = values.get("speed_mph", values.get("gps_speed_mph"))
    rpm = values.get("engine_rpm")
    if speed is not None and speed > MOVING_MPH:
        return ChargeSignal("moving")
    if status is None or status <= 0:
        return ChargeSignal("idle")
    if charger_kw is not None and charger_kw >= MIN_CHARGE_KW:
        return ChargeSignal("charging", charger_kw, "charger_power")
    engine_off = rpm is None or rpm < ENGINE_ON_RPM
    if hv_kw is not None and hv_kw <= -MIN_CHARGE_KW and speed is not None and engine_off:
        return ChargeSignal("charging", -hv_kw, "battery_power")
    return ChargeSignal("idle")


def session_touched(signal: ChargeSignal, *, linked: bool) -> bool:
    """Whether a reading reads or writes a session row: a charging one, or any while the trip links a
    session (to advance, pause or close it). Every other reading leaves charging alone, at no query."""
    return linked or signal.kind == "charging"


def session_location(values: dict[str, float]) -> tuple[float, float] | None:
    """Where the session opened, to about 100 m: where the car charges (home, work), not where it stands."""
    lat, lon = values.get("latitude"), values.get("longitude")
    return (round(lat, 3), round(lon, 3)) if lat is not None and lon is not None else None


def charge_level(power_kw: float | None) -> Level:
    if power_kw is None or power_kw < MIN_CHARGE_KW:
        return ""
    if power_kw > DCFC_MIN_KW:
        return "DCFC"
    return "L2" if power_kw > L1_MAX_KW else "L1"


def curve_append(points: list[list[float]], stride_s: int, offset_s: float, kw: float) -> tuple[list[list[float]], int]:
    """Add a point to a bounded power curve `[[seconds_from_start, kW], ...]`; returns (points, stride)."""
    offset = int(round(offset_s))
    if points and offset - points[-1][0] < stride_s:
        return points, stride_s
    points = [*points, [offset, round(kw, 2)]]
    while len(points) > MAX_CURVE_POINTS:
        points = points[::2]
        stride_s *= 2
    return points, stride_s


@dataclass(frozen=True, slots=True)
class SessionState:
    """What a session needs to take its next reading; mirrors ChargingSession's columns."""

    started_at: datetime
    ended_at: datetime  # the last charging reading
    last_reading_at: datetime  # the last reading of any kind applied to the session
    last_power_kw: float | None  # None after an idle reading: the charge paused
    start_soc: float | None = None
    end_soc: float | None = None
    kwh_integrated: float = 0.0
    charging_seconds: float = 0.0
    peak_power_kw: float = 0.0
    kwh_source: KwhSource = ""
    power_curve: list[list[float]] = field(default_factory=list)
    curve_stride_s: int = FIRST_CURVE_STRIDE_S
    reading_count: int = 0


def session_open(at: datetime, signal: ChargeSignal, soc: float | None) -> SessionState:
    power = signal.power_kw or 0.0
    return SessionState(
        started_at=at, ended_at=at, last_reading_at=at, last_power_kw=power, start_soc=soc, end_soc=soc,
        peak_power_kw=power, kwh_source=signal.source, power_curve=[[0, round(power, 2)]], reading_count=1,
    )


def session_is_stale(state: SessionState, at: datetime, stale_seconds: float) -> bool:
    """A charging reading this long after the last one starts a new session."""
    return (at - state.ended_at).total_seconds() > stale_seconds


def session_step(state: SessionState, at: datetime, signal: ChargeSignal, soc: float | None) -> SessionState:
    """Apply one in-order reading (charging or idle) to an open session.

    Energy is the trapezoid between consecutive charging readings; an idle reading
    (plugged but not charging) pauses the integration until charging resumes.
    """
    if at <= state.last_reading_at:
        return state
    if signal.kind != "charging":
        offset = (at - state.started_at).total_seconds()
        curve, stride = curve_append(state.power_curve, state.curve_stride_s, offset, 0.0)
        # The car is still parked on the charger: its SOC is the session's latest.
        return replace(state, last_reading_at=at, last_power_kw=None, power_curve=curve, curve_stride_s=stride,
                       end_soc=soc if soc is not None else state.end_soc)
    power = signal.power_kw or 0.0
    kwh, seconds = state.kwh_integrated, state.charging_seconds
    if state.last_power_kw is not None:
        gap = (at - state.last_reading_at).total_seconds()
        kwh += (state.last_power_kw + power) / 2.0 * gap / 3600.0
        seconds += gap
    offset = (at - state.started_at).total_seconds()
    curve, stride = curve_append(state.power_curve, state.curve_stride_s, offset, power)
    return replace(
        state, ended_at=at, last_reading_at=at, last_power_kw=power,
        start_soc=state.start_soc if state.start_soc is not None else soc,
        end_soc=soc if soc is not None else state.end_soc,
        kwh_integrated=kwh, charging_seconds=seconds, peak_power_kw=max(state.peak_power_kw, power),
        kwh_source=signal.source, power_curve=curve, curve_stride_s=stride,
        reading_count=state.reading_count + 1,
    )


@dataclass(frozen=True, slots=True)
class SessionFigures:
    kwh_added: float | None
    kwh_source: KwhSource
    avg_power_kw: float | None
    level: Level


def session_figures(state: SessionState, usable_battery_kwh: float) -> SessionFigures:
    """kWh added (integrated power, else SOC gain x usable capacity), average power and level."""
    if state.charging_seconds > 0:
        kwh: float | None = state.kwh_integrated
        source = state.kwh_source
        avg: float | None = state.kwh_integrated / (state.charging_seconds / 3600.0)
    else:
        gain = (state.end_soc - state.start_soc) if state.end_soc is not None and state.start_soc is not None else None
        kwh = max(gain, 0.0) / 100.0 * usable_battery_kwh if gain is not None else None
        source = "soc" if kwh is not None else ""
        hours = (state.ended_at - state.started_at).total_seconds() / 3600.0
        avg = kwh / hours if kwh is not None and hours > 0 else None
    # The typical power while charging, not the peak (one spike) nor the mean (pauses).
    charging_points = [kw for _, kw in state.power_curve if kw >= MIN_CHARGE_KW]
    typical = median(charging_points) if charging_points else avg
    return SessionFigures(
        kwh_added=round(kwh, 4) if kwh is not None else None, kwh_source=source,
        avg_power_kw=round(avg, 3) if avg is not None else None, level=charge_level(typical),
    )


@dataclass(frozen=True, slots=True)
class ReplayedSession:
    state: SessionState
    closed_reason: CloseReason  # why the readings closed it; "" when still open after the last one
    location: tuple[float, float] | None


def sessions_replay(readings: Iterable[ChargeReading], stale_seconds: float) -> list[ReplayedSession]:
    """The sessions that readings in time order make, by the rules uploads apply one reading at a time."""
    done: list[ReplayedSession] = []
    state: SessionState | None = None
    location: tuple[float, float] | None = None
    for at, values in readings:
        signal = charge_signal(values)
        if state is not None and signal.kind == "moving":
            done.append(ReplayedSession(state, "drove_off", location))
            state = None
        elif state is not None and session_is_stale(state, at, stale_seconds):
            done.append(ReplayedSession(state, "stale", location))
            state = None
        if state is not None:
            state = session_step(state, at, signal, values.get("soc_pct"))
        elif signal.kind == "charging":
            state, location = session_open(at, signal, values.get("soc_pct")), session_location(values)
    if state is not None:
        done.append(ReplayedSession(state, "", location))
    return done


@dataclass(frozen=True, slots=True)
class StoredSession:
    id: int
    state: SessionState
    is_complete: bool


@dataclass(frozen=True, slots=True)
class SessionRepair:
    """What one replayed session needs written so that the stored rows say the same."""

    replayed: ReplayedSession
    session_id: int | None  # the row to rewrite; None: the uploads missed the session, store it
    merged_ids: tuple[int, ...] = ()  # rows the uploads split off this session: deleted
    close: bool = False  # the row is open but the readings closed the session


def _same_charge(a: SessionState, b: SessionState) -> bool:
    """Equal but for readings after the charge's last charging one (the beat may close a session before
    its trailing idle readings are applied: those change no kWh and need no rewrite)."""
    return (a.started_at, a.ended_at, a.reading_count, a.kwh_integrated, a.charging_seconds, a.start_soc,
            a.peak_power_kw, a.kwh_source) == (b.started_at, b.ended_at, b.reading_count, b.kwh_integrated,
                                               b.charging_seconds, b.start_soc, b.peak_power_kw, b.kwh_source)


def _overlap(a: SessionState, b: SessionState) -> bool:
    return a.started_at <= b.last_reading_at and b.started_at <= a.last_reading_at


def sessions_reconcile(replayed: Sequence[ReplayedSession], stored: Sequence[StoredSession]) -> list[SessionRepair]:
    """The repairs that make the stored sessions match the replay; a row that already does is not named.

    A stored row belongs to the first replayed session whose time span it overlaps. Of several rows
    belonging to one session, the open one is kept (uploads still advance it), else the one starting
    where the replay does, else the earliest; the others are merged into it.
    """
    claimed: set[int] = set()
    repairs: list[SessionRepair] = []
    for found in replayed:
        rows = [row for row in stored if row.id not in claimed and _overlap(row.state, found.state)]
        claimed.update(row.id for row in rows)
        if not rows:
            repairs.append(SessionRepair(found, None))
            continue
        keep = min(rows, key=lambda r: (r.is_complete, r.state.started_at != found.state.started_at,
                                        r.state.started_at))
        merged = tuple(row.id for row in rows if row is not keep)
        close = not keep.is_complete and found.closed_reason != ""
        if merged or close or not _same_charge(keep.state, found.state):
            repairs.append(SessionRepair(found, keep.id, merged, close))
    return repairs
