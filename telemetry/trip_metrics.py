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

# TORQUE.md, "Plausible ranges".
KWH_PER_MILE_RANGE = (0.1, 1.0)
MPG_RANGE = (15.0, 60.0)
# Below these, ratios are noise (a few hundred metres, a few cl of fuel).
MIN_MILES_FOR_RATIO = 0.5
MIN_GALLONS_FOR_MPG = 0.02


@dataclass(frozen=True, slots=True)
class Sample:
    at: datetime
    odometer_miles: float | None = None
    trip_distance_miles: float | None = None
    speed_mph: float | None = None
    hv_power_kw: float | None = None
    soc_pct: float | None = None
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
    kwh_per_mile: float | None = None
    fuel_used_gallons: float | None = None
    gas_mpg: float | None = None
    ambient_temp_f: float | None = None
    start_soc: float | None = None
    end_soc: float | None = None
    battery_capacity_kwh: float | None = None
    notes: dict[str, str] = field(default_factory=dict)


def _hours(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 3600.0


def _series(samples: Sequence[Sample], attr: str) -> list[tuple[datetime, float]]:
    return [(s.at, v) for s in samples if (v := getattr(s, attr)) is not None]


def _cumulative_distance(samples: Sequence[Sample]) -> tuple[list[tuple[datetime, float]], str]:
    """Distance from the trip's start at each sample time, from the best source present."""
    for attr, source in (("odometer_miles", "odometer"), ("trip_distance_miles", "torque_trip")):
        points = _series(samples, attr)
        if len(points) >= 2 and points[-1][1] > points[0][1]:
            first = points[0][1]
            return [(at, max(v - first, 0.0)) for at, v in points], source
    speeds = _series(samples, "speed_mph")
    if len(speeds) < 2:
        return [], ""
    total = 0.0
    out = [(speeds[0][0], 0.0)]
    for (t0, v0), (t1, v1) in zip(speeds, speeds[1:]):
        total += (v0 + v1) / 2.0 * _hours(t0, t1)
        out.append((t1, total))
    return out, "speed"


def _value_at(points: list[tuple[datetime, float]], at: datetime) -> float | None:
    """The last known value at or before `at` (the first one if `at` precedes all)."""
    if not points:
        return None
    i = bisect_right([p[0] for p in points], at)
    return points[max(i - 1, 0)][1]


def _positive_energy_kwh(points: list[tuple[datetime, float]]) -> float:
    """Trapezoidal integral of discharge power (regeneration counted as zero)."""
    return sum(
        (max(p0, 0.0) + max(p1, 0.0)) / 2.0 * _hours(t0, t1)
        for (t0, p0), (t1, p1) in zip(points, points[1:])
    )


def _within(value: float | None, bounds: tuple[float, float]) -> bool:
    return value is not None and bounds[0] <= value <= bounds[1]


def trip_metrics_compute(
    samples: Sequence[Sample],
    *,
    gas_entered_at: datetime | None,
    soc_at_gas_entry: float | None,
    usable_battery_kwh: float,
    tank_gallons: float,
) -> TripMetrics:
    """Compute a trip's figures from its readings, ordered by time."""
    m = TripMetrics()
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

    socs = _series(samples, "soc_pct")
    if socs:
        m.start_soc, m.end_soc = socs[0][1], socs[-1][1]

    # Electric energy: integrate discharge power over the electric part, else the SOC drop.
    power = [(t, p) for t, p in _series(samples, "hv_power_kw") if t <= split_at]
    if len(power) >= 2:
        m.electric_kwh_used = round(_positive_energy_kwh(power), 4)
    elif socs:
        soc_end = soc_at_gas_entry if gas_entered_at is not None and soc_at_gas_entry is not None else m.end_soc
        drop = max((m.start_soc or 0.0) - (soc_end or 0.0), 0.0)
        m.electric_kwh_used = round(drop / 100.0 * usable_battery_kwh, 4)
    if m.electric_kwh_used is not None and m.electric_miles and m.electric_miles >= MIN_MILES_FOR_RATIO:
        ratio = m.electric_kwh_used / m.electric_miles
        if _within(ratio, KWH_PER_MILE_RANGE):
            m.kwh_per_mile = round(ratio, 4)
        else:
            m.notes["kwh_per_mile"] = f"implausible {ratio:.3f} kWh/mile (E403)"

    if gas_entered_at is not None:
        counter = _series(samples, "trip_fuel_gallons")
        level = _series(samples, "fuel_level_pct")
        fuel: float | None = None
        if len(counter) >= 2:
            fuel = max(counter[-1][1] - (_value_at(counter, gas_entered_at) or 0.0), 0.0)
        elif len(level) >= 2:
            fuel = max((_value_at(level, gas_entered_at) or 0.0) - level[-1][1], 0.0) / 100.0 * tank_gallons
        if fuel is not None:
            m.fuel_used_gallons = round(fuel, 4)
            if fuel >= MIN_GALLONS_FOR_MPG and m.gas_miles:
                mpg = m.gas_miles / fuel
                if _within(mpg, MPG_RANGE):
                    m.gas_mpg = round(mpg, 2)
                else:
                    m.notes["gas_mpg"] = f"implausible {mpg:.1f} mpg (E403)"
    else:
        m.fuel_used_gallons = 0.0

    temps = [v for _, v in _series(samples, "ambient_temp_f")]
    if temps:
        m.ambient_temp_f = round(sum(temps) / len(temps), 1)
    capacities = [v for _, v in _series(samples, "battery_capacity_kwh")]
    if capacities:
        m.battery_capacity_kwh = round(sorted(capacities)[len(capacities) // 2], 3)
    return m
