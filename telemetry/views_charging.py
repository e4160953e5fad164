"""Read-only JSON API for charging sessions and refuels; same access rule as trips."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from telemetry.api_json import row_json, vehicle_read_denied
from telemetry.models import ChargingSession, Refuel

CHARGING_FIELDS = ("id", "started_at", "ended_at", "start_soc", "end_soc", "kwh_added", "peak_power_kw",
                   "avg_power_kw", "level", "is_complete")
REFUEL_FIELDS = ("id", "detected_at", "odometer_miles", "level_before", "level_after", "gallons_added")
PAGE_SIZE = 100


def vehicle_charging(request: HttpRequest, vehicle_id: int) -> JsonResponse:
    if denied := vehicle_read_denied(request, vehicle_id, shows=("chargingsession",)):
        return denied
    sessions = ChargingSession.objects.filter(vehicle_id=vehicle_id).only(*CHARGING_FIELDS).order_by("-started_at")
    rows = [row_json(s, CHARGING_FIELDS) for s in sessions[:PAGE_SIZE]]
    return JsonResponse({"vehicle_id": vehicle_id, "charging_sessions": rows})


def vehicle_refuels(request: HttpRequest, vehicle_id: int) -> JsonResponse:
    if denied := vehicle_read_denied(request, vehicle_id, shows=("refuel",)):
        return denied
    refuels = Refuel.objects.filter(vehicle_id=vehicle_id).order_by("-detected_at")[:PAGE_SIZE]
    return JsonResponse({"vehicle_id": vehicle_id, "refuels": [row_json(r, REFUEL_FIELDS) for r in refuels]})
