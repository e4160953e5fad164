"""Lifetime statistics per vehicle, set-based: one INSERT ... SELECT ... ON CONFLICT per range of vehicles.

Every figure is an aggregate over finished trips, battery samples, charging
sessions and refuels computed by the database (docs/stats.md), never a Python loop over rows. The same statement
serves one vehicle (a range of one id) and all vehicles (ranges of
`REFRESH_CHUNK` ids), on PostgreSQL and on the embedded SQLite alike: the
capacity trend is the least-squares slope from plain sums (n, Σx, Σy, Σxx, Σxy),
which both compute in one hash aggregate (PostgreSQL's `regr_slope` gives the
same; a test holds them equal). The miles axis starts at 0 per vehicle, so the
sums do not cancel catastrophically.
Refreshing is idempotent: it recomputes from the source rows and overwrites.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from logging_policy.current import current_event
from telemetry.models import BatteryHealthSample, ChargingSession, Refuel, Trip, Vehicle, VehicleStats

# Vehicles per statement on the all-vehicles path. Each statement scans the trips and samples
# tables once (a range filter is not selective enough for an index), so smaller chunks cost
# repeated scans; larger ones hold the stats rows' locks longer (bench/bench_stats.py).
REFRESH_CHUNK = 25_000
# Fewer miles than this between capacity samples say nothing about a trend.
MIN_TREND_MILES = 100.0

_COLUMNS = (
    "total_trips", "total_miles", "electric_miles", "gas_miles", "electric_share", "first_trip_at",
    "last_trip_at", "avg_kwh_per_mile", "lifetime_mpg", "battery_capacity_kwh", "capacity_is_estimate",
    "capacity_degradation_percent", "capacity_loss_kwh_per_10k_miles", "capacity_samples", "kwh_charged",
    "charging_sessions", "last_tank_mpg", "avg_tank_mpg", "tanks_measured", "refreshed_at",
)

# INSERT comes first (CTEs inside): Python's sqlite3 reports rowcount only for statements that start with it.
_REFRESH_SQL = """
INSERT INTO {stats} (vehicle_id, {columns})
WITH trip_agg AS (
    SELECT t.vehicle_id,
           COUNT(*) AS total_trips,
           COALESCE(SUM(t.distance_miles), 0) AS total_miles,
           COALESCE(SUM(t.electric_miles), 0) AS electric_miles,
           COALESCE(SUM(t.gas_miles), 0) AS gas_miles,
           MIN(t.started_at) AS first_trip_at,
           MAX(COALESCE(t.ended_at, t.last_reading_at)) AS last_trip_at,
           SUM(CASE WHEN t.kwh_per_mile IS NOT NULL THEN t.electric_kwh_used END) AS rated_kwh,
           SUM(CASE WHEN t.kwh_per_mile IS NOT NULL THEN t.electric_miles END) AS rated_electric_miles,
           SUM(CASE WHEN t.gas_mpg IS NOT NULL THEN t.gas_miles END) AS rated_gas_miles,
           SUM(CASE WHEN t.gas_mpg IS NOT NULL THEN t.fuel_used_gallons END) AS rated_gallons
    FROM {trip} t
    -- A parked session (warm-up, charge: is_drive false) is not a trip, and an impossible one (a phone
    -- clock gone wrong: is_plausible false) would swamp the lifetime figures; trips finalized before
    -- the flags existed (null) still count.
    WHERE t.is_closed AND t.is_drive IS NOT FALSE AND t.is_plausible IS NOT FALSE
      AND t.vehicle_id BETWEEN %(lo)s AND %(hi)s
    GROUP BY t.vehicle_id
),
kind_agg AS (
    -- Sums for the least-squares slope, per vehicle and kind of sample: one hash aggregate, no sort.
    SELECT s.vehicle_id,
           CASE WHEN s.is_estimate THEN 1 ELSE 0 END AS est,
           COUNT(*) AS n,
           SUM(s.lifetime_miles) AS sx,
           SUM(s.capacity_kwh) AS sy,
           SUM(s.lifetime_miles * s.lifetime_miles) AS sxx,
           SUM(s.lifetime_miles * s.capacity_kwh) AS sxy,
           MAX(s.lifetime_miles) - MIN(s.lifetime_miles) AS spread,
           MAX(s.at) AS last_at
    FROM {sample} s
    WHERE s.vehicle_id BETWEEN %(lo)s AND %(hi)s
    GROUP BY s.vehicle_id, CASE WHEN s.is_estimate THEN 1 ELSE 0 END
),
chosen AS (
    -- BECM samples when the vehicle has any; estimates only for cars that never report it.
    SELECT ka.*
    FROM kind_agg ka
    JOIN (SELECT vehicle_id, MIN(est) AS est FROM kind_agg GROUP BY vehicle_id) pick
      ON pick.vehicle_id = ka.vehicle_id AND pick.est = ka.est
),
sample_agg AS (
    SELECT c.vehicle_id, c.n, c.est AS latest_est,
           -- Two samples at the same instant: the higher one (index on vehicle, at).
           (SELECT MAX(l.capacity_kwh) FROM {sample} l
             WHERE l.vehicle_id = c.vehicle_id AND l.at = c.last_at
               AND (CASE WHEN l.is_estimate THEN 1 ELSE 0 END) = c.est) AS latest,
           CASE WHEN c.spread >= %(min_trend_miles)s
                THEN (c.n * c.sxy - c.sx * c.sy) / (c.n * c.sxx - c.sx * c.sx) END AS slope
    FROM chosen c
),
charge_agg AS (
    SELECT c.vehicle_id, COUNT(*) AS sessions, COALESCE(SUM(c.kwh_added), 0) AS kwh
    FROM {charging} c
    WHERE c.vehicle_id BETWEEN %(lo)s AND %(hi)s
    GROUP BY c.vehicle_id
),
tank AS (
    -- A tank runs from one refuel to the next (docs/charging.md): a window over the refuels only,
    -- a few per vehicle, never over trips or samples.
    SELECT r.vehicle_id, r.detected_at AS to_at,
           r.odometer_miles - LAG(r.odometer_miles) OVER w AS miles,
           LAG(r.level_after) OVER w - r.level_before AS level_used
    FROM {refuel} r
    WHERE r.vehicle_id BETWEEN %(lo)s AND %(hi)s
    WINDOW w AS (PARTITION BY r.vehicle_id ORDER BY r.detected_at)
),
measured AS (
    -- Tanks with an MPG: both odometers read, not going backwards, some fuel used.
    SELECT vehicle_id, to_at, miles, level_used FROM tank WHERE miles >= 0 AND level_used > 0
),
tank_agg AS (
    SELECT m.vehicle_id, COUNT(*) AS tanks, SUM(m.miles) AS miles, SUM(m.level_used) AS level_used,
           MAX(m.to_at) AS last_to
    FROM measured m
    GROUP BY m.vehicle_id
)
SELECT v.id,
       COALESCE(ta.total_trips, 0),
       COALESCE(ta.total_miles, 0),
       COALESCE(ta.electric_miles, 0),
       COALESCE(ta.gas_miles, 0),
       CASE WHEN ta.total_miles > 0 THEN ta.electric_miles / ta.total_miles END,
       ta.first_trip_at,
       ta.last_trip_at,
       CASE WHEN ta.rated_electric_miles > 0 THEN ta.rated_kwh / ta.rated_electric_miles END,
       CASE WHEN ta.rated_gallons > 0 THEN ta.rated_gas_miles / ta.rated_gallons END,
       sa.latest,
       COALESCE(sa.latest_est = 1, FALSE),
       CASE WHEN v.nominal_battery_kwh > 0 THEN (1 - sa.latest / v.nominal_battery_kwh) * 100 END,
       -10000 * sa.slope,
       COALESCE(sa.n, 0),
       COALESCE(ca.kwh, 0),
       COALESCE(ca.sessions, 0),
       CASE WHEN v.fuel_tank_gallons > 0 THEN lt.miles / (lt.level_used * v.fuel_tank_gallons / 100) END,
       CASE WHEN v.fuel_tank_gallons > 0 THEN tg.miles / (tg.level_used * v.fuel_tank_gallons / 100) END,
       COALESCE(tg.tanks, 0),
       %(now)s
FROM {vehicle} v
LEFT JOIN trip_agg ta ON ta.vehicle_id = v.id
LEFT JOIN sample_agg sa ON sa.vehicle_id = v.id
LEFT JOIN charge_agg ca ON ca.vehicle_id = v.id
LEFT JOIN tank_agg tg ON tg.vehicle_id = v.id
LEFT JOIN measured lt ON lt.vehicle_id = v.id AND lt.to_at = tg.last_to
WHERE v.id BETWEEN %(lo)s AND %(hi)s
ORDER BY v.id
ON CONFLICT (vehicle_id) DO UPDATE SET {updates}
"""


def _refresh_sql() -> str:
    return _REFRESH_SQL.format(
        trip=Trip._meta.db_table,
        sample=BatteryHealthSample._meta.db_table,
        charging=ChargingSession._meta.db_table,
        refuel=Refuel._meta.db_table,
        stats=VehicleStats._meta.db_table,
        vehicle=Vehicle._meta.db_table,
        columns=", ".join(_COLUMNS),
        updates=", ".join(f"{c} = excluded.{c}" for c in _COLUMNS),
    )


def _refresh_range(lo: int, hi: int) -> int:
    """Recompute the rows of vehicles with lo <= id <= hi in one statement; returns rows written."""
    params = {
        "lo": lo, "hi": hi, "min_trend_miles": MIN_TREND_MILES,
        "now": connection.ops.adapt_datetimefield_value(timezone.now()),
    }
    with connection.cursor() as cursor:
        cursor.execute(_refresh_sql(), params)
        return max(cursor.rowcount, 0)


def vehicle_stats_refresh(*, vehicle_id: int) -> int:
    """Recompute one vehicle's statistics (after one of its trips is finalized). 1 if it exists, else 0."""
    event = current_event()
    with event.timer("stats_refresh"):
        written = _refresh_range(vehicle_id, vehicle_id)
    event.set("stats", scope="vehicle", vehicles_refreshed=written, statements=1)
    return written


@dataclass(frozen=True, slots=True)
class RefreshSummary:
    vehicles: int
    statements: int


def vehicle_stats_refresh_all(*, chunk: int = REFRESH_CHUNK,
                              progress: Callable[[int], object] | None = None) -> RefreshSummary:
    """Recompute every vehicle's statistics: one id query, then one statement per `chunk` vehicles.

    `progress(n)` is called after each statement with the number of vehicles it covered.
    """
    event = current_event()
    size = max(chunk, 1)
    with event.timer("stats_refresh"):
        ids = list(Vehicle.objects.order_by("pk").values_list("pk", flat=True))
        batches = [ids[i:i + size] for i in range(0, len(ids), size)]
        written = 0
        for batch in batches:
            written += _refresh_range(batch[0], batch[-1])
            if progress is not None:
                progress(len(batch))
    event.set("stats", scope="all", vehicles=len(ids), vehicles_refreshed=written, statements=len(batches) + 1)
    return RefreshSummary(vehicles=written, statements=len(batches))
