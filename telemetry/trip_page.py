"""What the trip page shows: the summary's few derived values, the chart data and the internals."""

from __future__ import annotations

import json
from typing import Any

from telemetry.charts import trip_chart, trip_duration_seconds
from telemetry.models import Trip

# Stored for the service's own work (detection state, keys): shown folded, as stored.
INTERNAL_FIELDS = ("id", "session", "trip_key", "started_at", "last_reading_at", "last_received_at", "ended_at",
                   "finalized_at", "finalize_queued_at", "reading_count", "distance_source", "soc_source",
                   "is_drive", "is_plausible", "engine_on_since", "engine_on_soc", "battery_capacity_kwh",
                   "charging_session_id", "weather_impact_factor", "weather_attempted_at", "fuel_window", "notes")


def trip_internals(trip: Trip) -> list[tuple[str, str]]:
    """(field, value as stored) pairs; JSON fields as JSON."""
    return [(name, json.dumps(value) if isinstance(value := getattr(trip, name), (list, dict)) else str(value))
            for name in INTERNAL_FIELDS]


def trip_page_context(trip: Trip, *, with_route: bool = True) -> dict[str, Any]:
    """`with_route` false (a user who may not view readings): the GPS track is left out of the page."""
    notes = trip.notes if isinstance(trip.notes, dict) else {}
    chart = trip_chart(trip)
    if not with_route:
        chart["track"] = []
    return {
        "title": str(trip),
        "trip": trip,
        "duration": trip_duration_seconds(trip),
        "conditions": trip.weather_conditions.replace("_", " "),
        "notes": sorted((str(k), v if isinstance(v, str) else json.dumps(v)) for k, v in notes.items()),
        "chart": chart,
        "with_route": with_route,
        "internals": trip_internals(trip),
    }
