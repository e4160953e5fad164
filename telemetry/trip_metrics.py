"""What a finished trip amounts to: distance, electric/gas split, energy, fuel. Pure.

Each figure has a preferred source and fallbacks (docs/trips.md). A figure
outside TORQUE.md's plausible ranges is left empty and explained in `notes`,
never stored wrong.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise

from telemetry.fuel import fuel_used_from_levels
from telemetry.refuel_core import RefuelFound
from telemetry.soc import SocSource

# TORQUE.md, "Plausible ranges".
KWH_PER_MILE_RANGE = (0.1, 1.0)
MPG_RANGE = (15.0, 60.0)
# Below these, ratios are noise (a few hundred metres, a few cl of fuel).
MIN_MILES_FOR_RATIO = 0.5
MIN_GALLONS_FOR_MPG = 0.02
# A session that moved less than this is not a drive (a parked warm-up, a charge, a phone left on).
MIN_DRIVE_MILES = 0.1
# Torque's trip distance restarts at 0 when logging restarts; a fall larger than this is a restart.
DISTANCE_RESET_MILES = 0.1
# No Volt trip does these: 1,000 mi is over two full tanks and a battery without a stop long enough to
# end the session; 100 mph average is past its top speed (TORQUE.md: 0-180 km/h). A week-long session is
# a phone clock or a replay gone wrong.
MAX_TRIP_MILES = 1000.0
MAX_AVERAGE_MPH = 100.0
MAX_TRIP_DAYS = 7.0


@dataclass(frozen=True, slots=True)
class Sample:
    at: datetime
    odometer_miles: float | None = None
    trip_distance_miles: float | None = None
    speed_mph: float | None = None
    obd_speed_mph: float | None = None
    hv_power_kw: float | None = None
    soc_pct: float | None = None  # from the trip's one SOC source (telemetry/soc.py)
    trip_fuel_gallons: float | None = None
    fuel_level_pct: float | None = None
    ambient_temp_f: float | None = None
    battery_capacity_kwh: float | None = None


@dataclass(slots=True)
class TripMetrics:
    distance_miles: float | None = None
    distance_source: str = ""
    electric_miles: float | None = None
    gas_miles: float | None = None
    electric_kwh_used: float | None = None
    regen_kwh: float | None = None
    kwh_per_mile: float | None = None
    fuel_used_gallons: float | None = None
    gas_mpg: float | None = None
    ambient_temp_f: float | None = None
    start_soc: float | None = None
    end_soc: float | None = None
    battery_capacity_kwh: float | None = None
    soc_source: SocSource = ""
    is_drive: bool | None = None
    is_plausible: bool | None = None
    notes: dict[str, str] = field(default_factory=dict)


def _hours(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 3600.0


def _series(samples: Sequence[Sample], attr: str) -> list[tuple[datetime, float]]:
    return [(s.at, v) for s in samples if (v := getattr(s, attr)) is not None]


def _odometer_like(points: list[tuple[datetime, float]]) -> list[tuple[datetime, float]]:
    """Distance from the first point, through restarts: a fall of more than `DISTANCE_RESET_MILES`
    starts counting again from the new value; a smaller one (rounding) adds nothing."""
    total, out = 0.0, [(points[0][0], 0.0)]
    for (_, v0), (t1, v1) in pairwise(points):
        if v1 >= v0:
            total += v1 - v0
        elif v1 < v0 - DISTANCE_RESET_MILES:
            total += v1
        out.append((t1, total))
    return out


def _cumulative_distance(samples: Sequence[Sample]) -> tuple[list[tuple[datetime, float]], str]:
    """Distance from the trip's start at each sample time, from the best source present."""
    for attr, source in (("odometer_miles", "odometer"), ("trip_distance_miles", "torque_trip")):
        points = _series(samples, attr)
        if len(points) >= 2:
            distance = _odometer_like(points)
            if distance[-1][1] > 0:
                return distance, source
    speeds = _series(samples, "speed_mph")
    if len(speeds) < 2:
        return [], ""
    total = 0.0
    out = [(speeds[0][0], 0.0)]
    for (t0, v0), (t1, v1) in pairwise(speeds):
        total += (v0 + v1) / 2.0 * _hours(t0, t1)
        out.append((t1, total))
    return out, "speed"


def _value_at(points: list[tuple[datetime, float]], at: datetime) -> float | None:
    """The last known value at or before `at` (the first one if `at` precedes all)."""
    if not points:
        return None
    i = bisect_right([p[0] for p in points], at)
    return points[max(i - 1, 0)][1]


def energy_kwh(points: Sequence[tuple[datetime, float]]) -> tuple[float, float]:
    """(net energy out of the pack, energy recovered into it), kWh, from signed power samples.

    Trapezoids between samples; a segment that crosses zero is split where the line does,
    so regen is the area below zero and net = discharge - regen.
    """
    out = back = 0.0
    for (t0, p0), (t1, p1) in pairwise(points):
        hours = _hours(t0, t1)
        if (p0 >= 0) == (p1 >= 0):
            area = (p0 + p1) / 2.0 * hours
            out, back = (out + area, back) if area >= 0 else (out, back - area)
        else:
            f = p0 / (p0 - p1)  # where the line crosses zero, as a share of the segment
            first, second = p0 * f * hours / 2.0, p1 * (1.0 - f) * hours / 2.0
            out += max(first, 0.0) + max(second, 0.0)
            back -= min(first, 0.0) + min(second, 0.0)
    return out - back, back


def _impossible(miles: float, start: datetime, end: datetime) -> str | None:
    """Why a trip cannot be a Volt's, or None."""
    hours = _hours(start, end)
    if hours > MAX_TRIP_DAYS * 24:
        return f"{hours / 24:.0f} days long"
    if miles > MAX_TRIP_MILES:
        return f"{miles:.0f} miles"
    if hours >= 1 / 60 and miles / hours > MAX_AVERAGE_MPH:
        return f"{miles / hours:.0f} mph on average"
    return None


def _within(value: float | None, bounds: tuple[float, float]) -> bool:
    return value is not None and bounds[0] <= value <= bounds[1]


def trip_metrics_compute(
    samples: Sequence[Sample],
    *,
    gas_entered_at: datetime | None,
    soc_at_gas_entry: float | None,
    soc_span_kwh: float,
    tank_gallons: float,
    soc_source: SocSource = "",
    fills: Sequence[RefuelFound] = (),
) -> TripMetrics:
    """Compute a trip's figures from its readings, ordered by time.

    `soc_span_kwh` is the energy 100 points of the trip's SOC source span (the usable window for
    the custom PID, the whole pack for the raw one); `fills` are refuels inside the trip.
    """
    m = TripMetrics(soc_source=soc_source)
    if not samples:
        m.notes["distance_miles"] = "no readings"
        return m
    end_at = samples[-1].at
    split_at = gas_entered_at if gas_entered_at is not None else end_at

    distance, m.distance_source = _cumulative_distance(samples)
    if distance:
        m.distance_miles = round(distance[-1][1], 3)
        electric = _value_at(distance, split_at) if gas_entered_at else m.distance_miles
        m.electric_miles = round(min(electric or 0.0, m.distance_miles), 3)
        m.gas_miles = round(m.distance_miles - m.electric_miles, 3)
    else:
        m.notes["distance_miles"] = "no odometer, trip distance or speed series"
    m.is_drive = (m.distance_miles or 0.0) >= MIN_DRIVE_MILES
    if impossible := _impossible(m.distance_miles or 0.0, samples[0].at, end_at):
        m.notes["trip"] = f"implausible: {impossible} (E403)"
    m.is_plausible = impossible is None

    socs = _series(samples, "soc_pct")
    if socs:
        m.start_soc, m.end_soc = socs[0][1], socs[-1][1]

    # Electric energy: the net energy drawn from the pack over the electric part (regen netted),
    # else the SOC drop times the energy the SOC's points span.
    power = _series(samples, "hv_power_kw")
    if len(power) >= 2:
        m.regen_kwh = round(energy_kwh(power)[1], 4)
    electric_power = [(t, p) for t, p in power if t <= split_at]
    if len(electric_power) >= 2:
        m.electric_kwh_used = round(max(energy_kwh(electric_power)[0], 0.0), 4)
    elif socs:
        soc_end = soc_at_gas_entry if gas_entered_at is not None and soc_at_gas_entry is not None else m.end_soc
        drop = max((m.start_soc or 0.0) - (soc_end or 0.0), 0.0)
        m.electric_kwh_used = round(drop / 100.0 * soc_span_kwh, 4)
    if m.electric_kwh_used is not None and m.electric_miles and m.electric_miles >= MIN_MILES_FOR_RATIO:
        ratio = m.electric_kwh_used / m.electric_miles
        if _within(ratio, KWH_PER_MILE_RANGE):
            m.kwh_per_mile = round(ratio, 4)
        else:
            m.notes["kwh_per_mile"] = f"implausible {ratio:.3f} kWh/mile (E403)"

    if gas_entered_at is not None:
        _fuel_figures(m, samples, since=gas_entered_at, fills=fills, tank_gallons=tank_gallons)
    else:
        m.fuel_used_gallons = 0.0

    temps = [v for _, v in _series(samples, "ambient_temp_f")]
    if temps:
        m.ambient_temp_f = round(sum(temps) / len(temps), 1)
    capacities = [v for _, v in _series(samples, "battery_capacity_kwh")]
    if capacities:
        m.battery_capacity_kwh = round(sorted(capacities)[len(capacities) // 2], 3)
    return m


def _fuel_figures(m: TripMetrics, samples: Sequence[Sample], *, since: datetime, fills: Sequence[RefuelFound],
                  tank_gallons: float) -> None:
    """Fuel used since gas entry (Torque's own counter, else the robust level) and the MPG it allows."""
    counter = _series(samples, "trip_fuel_gallons")
    noise = 0.0
    if len(counter) >= 2:
        fuel: float | None = max(counter[-1][1] - (_value_at(counter, since) or 0.0), 0.0)
    else:
        used = fuel_used_from_levels(_series(samples, "fuel_level_pct"), since=since, fills=fills,
                                     tank_gallons=tank_gallons)
        fuel, noise = (used.gallons, used.noise_gallons) if used else (None, 0.0)
    if fuel is None:
        m.notes["fuel_used_gallons"] = "no fuel counter or level readings after gas-mode entry"
        return
    m.fuel_used_gallons = round(fuel, 4)
    if not m.gas_miles:
        return
    if fuel < max(MIN_GALLONS_FOR_MPG, noise):
        m.notes["gas_mpg"] = f"fuel used {fuel:.2f} gal is within the level's noise (±{noise:.2f} gal)"
        return
    mpg = m.gas_miles / fuel
    if _within(mpg, MPG_RANGE):
        m.gas_mpg = round(mpg, 2)
    else:
        m.notes["gas_mpg"] = f"implausible {mpg:.1f} mpg (E403)"
