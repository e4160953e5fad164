"""Admin for the precomputed statistics and battery samples: read-only, written by Celery only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import HttpRequest, HttpResponse

from telemetry.admin_display import ReadOnlyAdmin
from telemetry.charts import capacity_trend, efficiency_by_temperature
from telemetry.models import BatteryHealthSample, VehicleStats


@admin.register(VehicleStats)
class VehicleStatsAdmin(ReadOnlyAdmin):
    list_display = ("vehicle", "total_trips", "total_miles", "electric_share", "avg_kwh_per_mile", "lifetime_mpg",
                    "battery_capacity_kwh", "capacity_degradation_percent", "capacity_loss_kwh_per_10k_miles",
                    "refreshed_at")
    list_select_related = ("vehicle",)
    search_fields = ("vehicle__name",)
    ordering = ("-total_trips",)
    change_form_template = "admin/telemetry/vehiclestats/change_form.html"

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """The figures, with the battery capacity trend and kWh/mi against the outside temperature above them."""
        vehicle_id = int(unquote(object_id)) if unquote(object_id).isdigit() else 0
        charts = {"capacity": capacity_trend(vehicle_id), "efficiency": efficiency_by_temperature(vehicle_id)}
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "charts": charts})


@admin.register(BatteryHealthSample)
class BatteryHealthSampleAdmin(ReadOnlyAdmin):
    list_display = ("at", "vehicle", "trip_id", "capacity_kwh", "is_estimate", "lifetime_miles", "odometer_miles")
    list_filter = ("is_estimate", "vehicle")
    list_select_related = ("vehicle",)
    date_hierarchy = "at"
