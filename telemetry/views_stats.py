"""GET /api/vehicles/<id>/stats/: the precomputed lifetime statistics, named as in the events' `vehicle.*`."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from logging_policy.events import current_event
from logging_policy.policy import policy_current
from logging_policy.responses import error_response
from telemetry.api_json import row_json
from telemetry.auth import vehicle_access_denied
from telemetry.models import Vehicle
from telemetry.vehicle_context import vehicle_context, vehicle_stats_of

# Beyond the event's context fields: the rest of the row, as stored.
EXTRA_FIELDS = (
    "electric_miles", "gas_miles", "electric_share", "first_trip_at", "last_trip_at", "lifetime_mpg",
    "capacity_is_estimate", "capacity_loss_kwh_per_10k_miles", "capacity_samples", "last_tank_mpg",
    "tanks_measured", "refreshed_at",
)

def vehicle_stats(request: HttpRequest, vehicle_id: int) -> JsonResponse:
    """Same access rule as the trips API. A vehicle never refreshed answers as tier `new` with no figures."""
    event = current_event()
    event.set("vehicle", id=vehicle_id)
    if denied := vehicle_access_denied(request, vehicle_id):
        return denied
    vehicle = Vehicle.objects.select_related("stats").filter(pk=vehicle_id).first()
    if vehicle is None:
        return error_response("E004")
    stats = vehicle_stats_of(vehicle)
    context = vehicle_context(vehicle_id=vehicle.pk, stats=stats, policy=policy_current(), now=timezone.now())
    event.set("vehicle", context)
    return JsonResponse({**context, **row_json(stats, EXTRA_FIELDS)})
