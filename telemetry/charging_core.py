"""Charging detection and session arithmetic. Pure: plain values in, dataclasses out.

A reading is a *charging* reading when the charger reports power while plugged
(`k220057` > 0 with `k22006e`), or when the HV battery takes power (negative
`k22000b`) with the car standing still and the engine off (with the engine on,
a standing Volt in Hold mode also charges its pack: that is not a charge).
A session accumulates consecutive charging readings; `docs/charging.md` has the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from statistics import median
from typing import Literal

from telemetry.gasmode import ENGINE_ON_RPM

# Below these the sensors report noise, not a charge or a drive.
MIN_CHARGE_KW = 0.1
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
    if status is not None and status > 0 and charger_kw is not None and charger_kw >= MIN_CHARGE_KW:
        return ChargeSignal("charging", charger_kw, "charger_power")
    unplugged = status is not None and status <= 0
    engine_off = rpm is None or rpm < ENGINE_ON_RPM
    if (hv_kw is not None and hv_kw <= -MIN_CHARGE_KW and speed is not None and engine_off and not unplugged):
        return ChargeSignal("charging", -hv_kw, "battery_power")
    return ChargeSignal("idle")


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
