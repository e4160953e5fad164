"""The series the pages draw: a trip's time chart and route, a charge's power curve, a vehicle's trends.

Selectors (one query each) around pure shaping. Series are columns (uPlot's shape: x first, times in
epoch seconds), thinned to at most MAX_POINTS so that a long log stays a light page; values are
rounded as telemetry/units.py shows them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from telemetry.models import BatteryHealthSample, ChargingSession, Reading, Trip
from telemetry.units import figure_round

MAX_POINTS = 2000


def thin(rows: Sequence[Any], max_points: int = MAX_POINTS) -> list[Any]:
    """Every n-th row so that at most `max_points` remain, the last row always kept. Pure."""
    if len(rows) <= max_points:
        return list(rows)
    stride = -(-len(rows) // (max_points - 1))  # ceiling
    kept = list(rows[::stride])
    return kept if kept[-1] is rows[-1] else [*kept, rows[-1]]


def _epoch(at: datetime) -> float:
    return round(at.timestamp(), 3)


def trip_duration_seconds(trip: Trip) -> float | None:
    """From the first to the last reading (the end, once finalized)."""
    end = trip.ended_at or trip.last_reading_at
    return None if end is None else max((end - trip.started_at).total_seconds(), 0.0)


def trip_series(rows: Sequence[tuple[Any, ...]], *, gas_at: datetime | None) -> dict[str, Any]:
    """Chart columns and the GPS track from (time, soc, speed, gps speed, hv kW, rpm, lat, lon) rows. Pure."""
    kept = thin(rows)
    return {
        "t": [_epoch(r[0]) for r in kept],
        "soc": [figure_round("soc_pct", r[1]) for r in kept],
        "speed": [figure_round("speed_mph", r[2] if r[2] is not None else r[3]) for r in kept],
        "power": [figure_round("hv_power_kw", r[4]) for r in kept],
        "rpm": [figure_round("engine_rpm", r[5]) for r in kept],
        "gas_at": _epoch(gas_at) if gas_at else None,
        # Five decimals: about a metre, more than a phone's GPS knows.
        "track": [[round(r[6], 5), round(r[7], 5)] for r in thin([r for r in rows if r[6] is not None
                                                                   and r[7] is not None])],
    }


def trip_chart(trip: Trip) -> dict[str, Any]:
    """The trip's readings as `trip_series` columns; the SOC is the one the trip's figures use."""
    soc_field = "soc_raw_pct" if trip.soc_source == "k5b" else "soc_pct"
    rows = (Reading.objects.filter(trip=trip).order_by("recorded_at")
            .values_list("recorded_at", soc_field, "speed_mph", "gps_speed_mph", "hv_power_kw", "engine_rpm",
                         "latitude", "longitude"))
    return trip_series(list(rows), gas_at=trip.gas_mode_entered_at)


def charging_curve(session: ChargingSession) -> dict[str, Any]:
    """The stored power curve ([[seconds from start, kW], ...]) as times and kW."""
    start = session.started_at.timestamp()
    points = [p for p in session.power_curve if isinstance(p, list) and len(p) == 2]
    return {"t": [round(start + s, 3) for s, _ in points], "kw": [figure_round("hv_power_kw", kw) for _, kw in points]}


def capacity_trend(vehicle_id: int) -> dict[str, Any]:
    """Battery capacity samples against lifetime miles (the trend's axis, docs/stats.md)."""
    rows = (BatteryHealthSample.objects.filter(vehicle_id=vehicle_id).order_by("lifetime_miles", "at")
            .values_list("lifetime_miles", "capacity_kwh"))
    return {"miles": [figure_round("lifetime_miles", m) for m, _ in rows],
            "kwh": [figure_round("capacity_kwh", k) for _, k in rows]}


def efficiency_by_temperature(vehicle_id: int) -> dict[str, Any]:
    """kWh/mi of each plausible drive against its outside temperature (the car's sensor, else the weather's)."""
    rows = (Trip.objects.filter(vehicle_id=vehicle_id, is_drive=True, kwh_per_mile__isnull=False)
            .exclude(is_plausible=False)
            .values_list("ambient_temp_f", "weather_temp_f", "kwh_per_mile"))
    points = sorted((car if car is not None else weather, kwh) for car, weather, kwh in rows
                    if car is not None or weather is not None)
    return {"temp_f": [figure_round("ambient_temp_f", t) for t, _ in points],
            "kwh_per_mile": [figure_round("kwh_per_mile", k) for _, k in points]}
