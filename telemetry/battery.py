"""Battery health per trip: the capacity sample and the recent battery context. Pure core, thin services.

A trip's capacity sample is the BECM's own estimate (`k2241a3`, median over the
trip) when the car reported it. Otherwise it is estimated from the net energy
drawn from the pack over a SOC drop of at least `MIN_SOC_DROP` points: the
custom (usable) SOC spans the usable window, so energy / drop is the usable capacity, scaled to
the whole pack to compare with the BECM and the nominal capacity; the raw SOC (k5b) spans the
whole pack already (telemetry/soc.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

from django.db.models import Sum

from telemetry.models import BatteryHealthSample, Trip
from telemetry.soc import USABLE_BATTERY_SHARE
from telemetry.trip_metrics import Sample

# Below 40 points a few tenths of a kWh of measurement error move the estimate by several percent.
MIN_SOC_DROP = 40.0
# A whole-pack estimate outside this range is a measurement artefact (a Volt pack is 16-18.4 kWh new).
PLAUSIBLE_CAPACITY_KWH = (5.0, 30.0)
RECENT_TRIPS = 10


@dataclass(frozen=True, slots=True)
class CapacityReading:
    capacity_kwh: float
    is_estimate: bool


def _hours(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 3600.0


def capacity_estimate(samples: Sequence[Sample], *, split_at: datetime | None,
                      soc_share: float = USABLE_BATTERY_SHARE) -> float | None:
    """Whole-pack kWh from net discharge energy over the SOC drop before `split_at` (gas entry), or None.

    Needs the HV power series: a kWh figure derived from the SOC drop itself
    would only return the nominal capacity. Regeneration counts negative here
    (net energy out of the pack), unlike the trip's kWh/mile.
    """
    electric = [s for s in samples if split_at is None or s.at <= split_at]
    socs = [s.soc_pct for s in electric if s.soc_pct is not None]
    power = [(s.at, s.hv_power_kw) for s in electric if s.hv_power_kw is not None]
    if len(socs) < 2 or len(power) < 2:
        return None
    drop = socs[0] - socs[-1]
    if drop < MIN_SOC_DROP:
        return None
    net_kwh = sum((p0 + p1) / 2.0 * _hours(t0, t1) for (t0, p0), (t1, p1) in pairwise(power))
    capacity = net_kwh / (drop / 100.0) / soc_share
    low, high = PLAUSIBLE_CAPACITY_KWH
    return round(capacity, 3) if low <= capacity <= high else None


def capacity_reading(samples: Sequence[Sample], *, becm_kwh: float | None, split_at: datetime | None,
                     soc_share: float = USABLE_BATTERY_SHARE) -> CapacityReading | None:
    """The trip's capacity sample: the BECM's value when present, else the estimate (or none)."""
    if becm_kwh is not None:
        return CapacityReading(becm_kwh, is_estimate=False)
    estimate = capacity_estimate(samples, split_at=split_at, soc_share=soc_share)
    return CapacityReading(estimate, is_estimate=True) if estimate is not None else None


def battery_sample_record(*, trip: Trip, samples: Sequence[Sample],
                          soc_share: float = USABLE_BATTERY_SHARE) -> BatteryHealthSample | None:
    """Store the finished trip's capacity sample (at most one per trip); call inside finalization.

    `soc_share`: the share of the pack 100 points of the trip's SOC span (telemetry/soc.py, pack_share).
    """
    reading = capacity_reading(samples, becm_kwh=trip.battery_capacity_kwh, split_at=trip.gas_mode_entered_at,
                               soc_share=soc_share)
    if reading is None:
        return None
    lifetime = Trip.objects.filter(vehicle_id=trip.vehicle_id, is_closed=True, started_at__lte=trip.started_at
                                   ).aggregate(miles=Sum("distance_miles"))["miles"]
    odometers = [s.odometer_miles for s in samples if s.odometer_miles is not None]
    sample, _ = BatteryHealthSample.objects.update_or_create(
        trip=trip,
        defaults={
            "vehicle_id": trip.vehicle_id,
            "capacity_kwh": reading.capacity_kwh,
            "is_estimate": reading.is_estimate,
            "odometer_miles": odometers[-1] if odometers else None,
            "lifetime_miles": round(lifetime or 0.0, 3),
            "at": trip.ended_at or trip.last_reading_at,
        },
    )
    return sample


@dataclass(frozen=True, slots=True)
class RecentTrip:
    electric_miles: float | None
    electric_kwh_used: float | None
    kwh_per_mile: float | None
    soc_at_gas_entry: float | None


def _slope(ys: Sequence[float]) -> float | None:
    """Least-squares slope of ys against 0, 1, 2, ...; None for fewer than two points."""
    n = len(ys)
    if n < 2:
        return None
    mean_x, mean_y = (n - 1) / 2.0, sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in range(n))
    return sum((x - mean_x) * (y - mean_y) for x, y in enumerate(ys)) / sxx


def battery_context(recent: Sequence[RecentTrip]) -> dict[str, float | int | None]:
    """Battery figures of the latest trips, oldest first, for the finalization event."""
    miles = [t.electric_miles for t in recent if t.electric_miles is not None]
    rated = [t for t in recent if t.kwh_per_mile is not None and t.electric_kwh_used and t.electric_miles]
    rated_miles = sum(t.electric_miles or 0.0 for t in rated)
    entries = [t.soc_at_gas_entry for t in recent if t.soc_at_gas_entry is not None]
    slope = _slope(entries)
    return {
        "recent_trips": len(recent),
        "recent_avg_electric_miles_per_trip": round(sum(miles) / len(miles), 3) if miles else None,
        "recent_kwh_per_mile": (
            round(sum(t.electric_kwh_used or 0.0 for t in rated) / rated_miles, 4) if rated_miles else None
        ),
        "recent_soc_at_gas_entry_avg": round(sum(entries) / len(entries), 2) if entries else None,
        # Points per trip that entered gas mode: rising means the usable window is shrinking.
        "soc_at_gas_entry_trend_per_trip": round(slope, 3) if slope is not None else None,
    }


def vehicle_battery_context(*, vehicle_id: int) -> dict[str, float | int | None]:
    """One indexed query (vehicle, -started_at) over the latest finished trips."""
    rows = (Trip.objects.filter(vehicle_id=vehicle_id, is_closed=True).order_by("-started_at")
            .values_list("electric_miles", "electric_kwh_used", "kwh_per_mile", "soc_at_gas_entry")[:RECENT_TRIPS])
    return battery_context([RecentTrip(*row) for row in reversed(rows)])
