"""GET /api/vehicles/<id>/stats/: the precomputed lifetime statistics, named as in the events' `vehicle.*`."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from telemetry.api_json import row_json, vehicle_read
from telemetry.units import figures_round
from telemetry.vehicle_context import vehicle_context_add, vehicle_stats_of

# Beyond the event's context fields: the rest of the row, figures rounded (docs/units.md).
EXTRA_FIELDS = (
    "electric_miles", "gas_miles", "electric_share", "first_trip_at", "last_trip_at", "lifetime_mpg",
    "capacity_is_estimate", "capacity_loss_kwh_per_10k_miles", "capacity_samples", "last_tank_mpg",
    "tanks_measured", "refreshed_at",
)


def vehicle_stats(request: HttpRequest, vehicle_id: int) -> JsonResponse:
    """Same access rule as the trips API. A vehicle never refreshed answers as tier `new` with no figures."""
    vehicle = vehicle_read(request, vehicle_id, shows=("vehiclestats",))
    if isinstance(vehicle, JsonResponse):
        return vehicle
    context = vehicle_context_add(vehicle=vehicle)
    return JsonResponse({**figures_round(context), **row_json(vehicle_stats_of(vehicle), EXTRA_FIELDS)})
