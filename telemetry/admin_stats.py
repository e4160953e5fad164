"""Admin for the precomputed statistics and battery samples: read-only, written by Celery only."""

from __future__ import annotations

from django.contrib import admin

from telemetry.admin import ReadOnlyAdmin
from telemetry.models import BatteryHealthSample, VehicleStats


@admin.register(VehicleStats)
class VehicleStatsAdmin(ReadOnlyAdmin):
    list_display = ("vehicle", "total_trips", "total_miles", "electric_share", "avg_kwh_per_mile", "lifetime_mpg",
                    "battery_capacity_kwh", "capacity_degradation_percent", "capacity_loss_kwh_per_10k_miles",
                    "refreshed_at")
    list_select_related = ("vehicle",)
    search_fields = ("vehicle__name",)
    ordering = ("-total_trips",)


@admin.register(BatteryHealthSample)
class BatteryHealthSampleAdmin(ReadOnlyAdmin):
    list_display = ("at", "vehicle", "trip_id", "capacity_kwh", "is_estimate", "lifetime_miles", "odometer_miles")
    list_filter = ("is_estimate", "vehicle")
    list_select_related = ("vehicle",)
    date_hierarchy = "at"
