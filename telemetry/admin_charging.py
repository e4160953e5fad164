"""Admin: charging sessions and refuels, read-only (only uploads create them)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import HttpRequest, HttpResponse

from telemetry.admin_display import ReadOnlyAdmin
from telemetry.charts import charging_curve
from telemetry.models import ChargingSession, Refuel


@admin.register(ChargingSession)
class ChargingSessionAdmin(ReadOnlyAdmin):
    list_display = ("id", "vehicle", "started_at", "ended_at", "level", "kwh_added", "kwh_source", "start_soc",
                    "end_soc", "peak_power_kw", "avg_power_kw", "is_complete", "closed_reason")
    list_filter = ("is_complete", "level", "vehicle", "started_at")
    list_select_related = ("vehicle",)
    date_hierarchy = "started_at"
    change_form_template = "admin/telemetry/chargingsession/change_form.html"

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """The session's figures with its power curve above them."""
        session = self.get_object(request, unquote(object_id))
        extra = {**(extra_context or {}), "curve": charging_curve(session) if session is not None else None}
        return super().change_view(request, object_id, form_url, extra)


@admin.register(Refuel)
class RefuelAdmin(ReadOnlyAdmin):
    list_display = ("id", "vehicle", "detected_at", "odometer_miles", "level_before", "level_after", "gallons_added")
    list_filter = ("vehicle", "detected_at")
    list_select_related = ("vehicle",)
    date_hierarchy = "detected_at"
