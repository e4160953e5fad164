"""Admin: charging sessions and refuels, read-only (only uploads create them)."""

from __future__ import annotations

from django.contrib import admin

from telemetry.admin import ReadOnlyAdmin
from telemetry.models import ChargingSession, Refuel


@admin.register(ChargingSession)
class ChargingSessionAdmin(ReadOnlyAdmin):
    list_display = ("id", "vehicle", "started_at", "ended_at", "level", "kwh_added", "kwh_source", "start_soc",
                    "end_soc", "peak_power_kw", "avg_power_kw", "is_complete", "closed_reason")
    list_filter = ("is_complete", "level", "vehicle", "started_at")
    list_select_related = ("vehicle",)
    date_hierarchy = "started_at"


@admin.register(Refuel)
class RefuelAdmin(ReadOnlyAdmin):
    list_display = ("id", "vehicle", "detected_at", "odometer_miles", "level_before", "level_after", "gallons_added")
    list_filter = ("vehicle", "detected_at")
    list_select_related = ("vehicle",)
    date_hierarchy = "detected_at"
