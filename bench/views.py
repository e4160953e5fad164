"""The ingest benchmark's baseline: the least a Django endpoint storing a reading can do."""

from __future__ import annotations

from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse

from telemetry.models import Reading


def baseline_insert(request: HttpRequest, vehicle_id: int, trip_id: int) -> HttpResponse:
    """One INSERT through the ORM (`Model.objects.create`), no authentication, no parsing, no trip logic."""
    at = datetime.fromtimestamp(int(request.GET["time"]) / 1000, tz=UTC)
    Reading.objects.create(vehicle_id=vehicle_id, trip_id=trip_id, session=request.GET["session"], recorded_at=at)
    return HttpResponse("OK!", content_type="text/plain")
