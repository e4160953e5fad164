"""Shared pieces of the read-only JSON API: the access gate and the shape of rows."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from django.http import HttpRequest, JsonResponse

from logging_policy.current import current_event
from logging_policy.responses import error_response
from telemetry.auth import vehicle_access_denied
from telemetry.models import Vehicle
from telemetry.units import figure_round
from telemetry.vehicle_context import vehicle_context_add


def vehicle_read(request: HttpRequest, vehicle_id: int, *, shows: tuple[str, ...]) -> Vehicle | JsonResponse:
    """The read API's gate: the vehicle (its stats row joined) or the 401/403/404 to send.

    Access is decided first, so only staff learn that a vehicle does not exist (404 `E004`):
    a token reaches only its own vehicle, and anyone else's id, existing or not, is a 403.
    `shows`: the models the answer holds, whose view permission staff need (`vehicle_access_denied`).
    """
    current_event().set("vehicle", id=vehicle_id)
    if denied := vehicle_access_denied(request, vehicle_id, shows=shows):
        return denied
    vehicle = Vehicle.objects.select_related("stats").filter(pk=vehicle_id).first()
    return vehicle if vehicle is not None else error_response("E004")


def vehicle_read_denied(request: HttpRequest, vehicle_id: int, *, shows: tuple[str, ...]) -> JsonResponse | None:
    """`vehicle_read` for views that need only the answer: None after adding the vehicle's context to the event.

    The context (tier, age) is what sampling decides on, so every allowed read carries it.
    """
    found = vehicle_read(request, vehicle_id, shows=shows)
    if isinstance(found, JsonResponse):
        return found
    vehicle_context_add(vehicle=found)
    return None


def row_json(row: Model | None, names: tuple[str, ...]) -> dict[str, Any]:
    """The named attributes of `row` (all None for no row), figures rounded as docs/units.md states;
    JsonResponse writes dates as ISO 8601."""
    return {name: figure_round(name, getattr(row, name)) if row is not None else None for name in names}
