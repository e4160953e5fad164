"""Shared pieces of the read-only JSON API: the access gate and the shape of rows."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from django.http import HttpRequest, JsonResponse

from logging_policy.events import current_event
from telemetry.auth import vehicle_access_denied
from telemetry.vehicle_context import vehicle_context_add_by_id


def vehicle_read_denied(request: HttpRequest, vehicle_id: int) -> JsonResponse | None:
    """The read API's gate: the 401/403 to send, or None after adding the vehicle's context to the event.

    The context (tier, age) is what sampling decides on, so every allowed read carries it.
    """
    current_event().set("vehicle", id=vehicle_id)
    if denied := vehicle_access_denied(request, vehicle_id):
        return denied
    vehicle_context_add_by_id(vehicle_id=vehicle_id)
    return None


def row_json(row: Model | None, names: tuple[str, ...]) -> dict[str, Any]:
    """The named attributes of `row` (all None for no row); JsonResponse writes dates as ISO 8601."""
    return {name: getattr(row, name) if row is not None else None for name in names}
