"""The vehicle's lifetime context on every event, read from the precomputed `VehicleStats` row.

Never an aggregate here: at most one indexed query (by primary key), none when
the row came with the vehicle (`select_related("stats")`). The usage tier is
derived at read time from the counts and the *current* policy thresholds, so a
threshold edited in the admin applies at once, without a refresh.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ObjectDoesNotExist

from logging_policy.current import current_event
from logging_policy.policy import policy_current
from logging_policy.rounding import half_up
from logging_policy.sampling import PolicySnapshot, usage_tier
from telemetry.models import Vehicle, VehicleStats

# The `vehicle.*` event fields and the first fields of GET /api/vehicles/<id>/stats/ (same names).
CONTEXT_FIELDS = (
    "id", "total_trips", "total_miles", "account_age_days", "usage_tier", "battery_capacity_kwh",
    "capacity_degradation_percent", "avg_kwh_per_mile", "kwh_charged", "charging_sessions", "avg_tank_mpg",
    "stats_age_seconds",
)


def vehicle_sampling_context(*, vehicle_id: int, stats: VehicleStats | None, policy: PolicySnapshot,
                             now: datetime) -> dict[str, Any]:
    """The `vehicle.*` fields that sampling reads (tier, age) or may key on, and the id. Pure."""
    if stats is None:
        return {"id": vehicle_id, "total_trips": 0, "account_age_days": 0, "usage_tier": usage_tier(0, policy)}
    first = stats.first_trip_at
    return {"id": vehicle_id, "total_trips": stats.total_trips,
            "account_age_days": max((now - first).days, 0) if first else 0,
            "usage_tier": usage_tier(stats.total_trips, policy)}


def vehicle_context(*, vehicle_id: int, stats: VehicleStats | None, policy: PolicySnapshot,
                    now: datetime) -> dict[str, Any]:
    """The `vehicle.*` fields. No stats row yet, or no trips: tier `new`, age 0. Pure."""
    sampled = vehicle_sampling_context(vehicle_id=vehicle_id, stats=stats, policy=policy, now=now)
    if stats is None:
        return {"id": vehicle_id, "total_trips": 0, "total_miles": 0.0, "account_age_days": 0,
                "usage_tier": sampled["usage_tier"], "battery_capacity_kwh": None,
                "capacity_degradation_percent": None, "avg_kwh_per_mile": None, "kwh_charged": 0.0,
                "charging_sessions": 0, "avg_tank_mpg": None, "stats_age_seconds": None}
    return {
        "id": vehicle_id,
        "total_trips": stats.total_trips,
        "total_miles": half_up(stats.total_miles, 10.0),
        "account_age_days": sampled["account_age_days"],
        "usage_tier": sampled["usage_tier"],
        "battery_capacity_kwh": half_up(stats.battery_capacity_kwh, 100.0),
        "capacity_degradation_percent": half_up(stats.capacity_degradation_percent, 10.0),
        "avg_kwh_per_mile": half_up(stats.avg_kwh_per_mile, 1000.0),
        "kwh_charged": half_up(stats.kwh_charged, 10.0),
        "charging_sessions": stats.charging_sessions,
        "avg_tank_mpg": half_up(stats.avg_tank_mpg, 10.0),
        "stats_age_seconds": half_up((now - stats.refreshed_at).total_seconds(), 10.0),
    }


def vehicle_stats_of(vehicle: Vehicle) -> VehicleStats | None:
    """The vehicle's stats row: from `select_related("stats")` when loaded, else one query by primary key."""
    try:
        return vehicle.stats
    except ObjectDoesNotExist:
        return None


def _context_set(vehicle_id: int, stats: VehicleStats | None) -> dict[str, Any]:
    # datetime.now(UTC) is timezone.now() under USE_TZ = True, without reading the setting (0.4 us per upload).
    context = vehicle_context(vehicle_id=vehicle_id, stats=stats, policy=policy_current(), now=datetime.now(UTC))
    current_event().set("vehicle", context)
    return context


def vehicle_context_add(*, vehicle: Vehicle) -> dict[str, Any]:
    """Put the vehicle's context on the current event; no query when `stats` was select_related."""
    return _context_set(vehicle.pk, vehicle_stats_of(vehicle))


def vehicle_context_add_when_kept(*, vehicle: Vehicle) -> None:
    """`vehicle_context_add` for the upload: now the fields sampling reads, the rest only if the event is
    kept (most uploads' events are dropped; the context is computed as of this moment either way)."""
    stats, policy, now = vehicle_stats_of(vehicle), policy_current(), datetime.now(UTC)
    event = current_event()
    event.set("vehicle", vehicle_sampling_context(vehicle_id=vehicle.pk, stats=stats, policy=policy, now=now))
    event.set_when_kept("vehicle", lambda _: vehicle_context(vehicle_id=vehicle.pk, stats=stats, policy=policy, now=now))


def vehicle_context_add_by_id(*, vehicle_id: int) -> dict[str, Any]:
    """Put the vehicle's context on the current event: one query by primary key."""
    return _context_set(vehicle_id, VehicleStats.objects.filter(vehicle_id=vehicle_id).first())
