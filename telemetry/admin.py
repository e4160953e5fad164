"""Admin: vehicles (with upload tokens shown once), trips and readings read-only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from telemetry.admin_display import rounded_list_display
from telemetry.admin_tracklog import TracklogImportMixin
from telemetry.models import PidDescription, Reading, Trip, Vehicle
from telemetry.vehicles import upload_url, vehicle_token_reset

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldsetSpec  # the stubs' name for a fieldsets list


class ReadOnlyAdmin(admin.ModelAdmin):
    """Data that only Torque uploads create: browsable, never edited by hand."""

    # Float fields shown in the list with this many decimals (telemetry/admin_display.py).
    list_decimals: dict[str, int] = {}

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        return rounded_list_display(self.model, super().get_list_display(request), self.list_decimals)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deleting a reading or a trip by hand would leave counters and statistics wrong;
        # deleting the vehicle removes all of its data consistently.
        return False


class PidDescriptionInline(admin.TabularInline):
    model = PidDescription
    extra = 0
    can_delete = False
    fields = ("pid", "full_name", "short_name", "user_unit", "default_unit", "updated_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Vehicle)
class VehicleAdmin(TracklogImportMixin, admin.ModelAdmin):
    list_display = ("name", "id", "torque_device_id", "fuel_tank_gallons", "nominal_battery_kwh", "created_at")
    search_fields = ("name", "torque_device_id")
    readonly_fields = ("torque_device_id", "created_at")
    fields = ("name", "fuel_tank_gallons", "nominal_battery_kwh", "torque_device_id", "created_at")
    inlines = [PidDescriptionInline]
    actions = ["reset_upload_token"]

    def save_model(self, request: HttpRequest, obj: Vehicle, form: Any, change: bool) -> None:
        if not change:
            request._new_upload_token = obj.token_reset()  # type: ignore[attr-defined]  # noqa: SLF001 - ours
        super().save_model(request, obj, form, change)

    def response_add(self, request: HttpRequest, obj: Vehicle, post_url_continue: str | None = None) -> HttpResponse:
        # The token exists in clear only in this response: not in a message cookie, not in a log.
        token = getattr(request, "_new_upload_token", None)
        if token is None:
            return super().response_add(request, obj, post_url_continue)
        return self._token_page(request, [(obj, token)])

    @admin.action(description="Reset upload token (the old URL stops working)")
    def reset_upload_token(self, request: HttpRequest, queryset: QuerySet[Vehicle]) -> HttpResponse:
        return self._token_page(request, [(v, vehicle_token_reset(vehicle=v).token) for v in queryset])

    def _token_page(self, request: HttpRequest, pairs: list[tuple[Vehicle, str]]) -> HttpResponse:
        base = request.build_absolute_uri("/")
        context = {
            **self.admin_site.each_context(request),
            "title": "Upload URL",
            "opts": self.model._meta,
            "vehicles": [(v, upload_url(token, base)) for v, token in pairs],
        }
        response = TemplateResponse(request, "admin/telemetry/vehicle/upload_url.html", context)
        response["Cache-Control"] = "no-store"
        return response


@admin.register(Trip)
class TripAdmin(ReadOnlyAdmin):
    list_display = ("id", "vehicle", "started_at", "ended_at", "is_closed", "distance_miles", "electric_miles",
                    "gas_miles", "kwh_per_mile", "gas_mpg", "reading_count", "weather_conditions", "weather_temp_f")
    list_decimals = {"distance_miles": 2, "electric_miles": 2, "gas_miles": 2, "kwh_per_mile": 3, "gas_mpg": 1,
                     "weather_temp_f": 1}
    list_filter = ("is_closed", "is_drive", "is_plausible", "vehicle", ("gas_mode_entered_at", admin.EmptyFieldListFilter),
                   "soc_source", "extreme_weather", "started_at")
    # Only the weather is grouped; every other field follows in model order (the page is read-only).
    WEATHER_FIELDS = ("weather_temp_f", "weather_precipitation_in", "weather_wind_mph", "weather_conditions",
                      "weather_impact_factor", "extreme_weather", "weather_attempted_at")

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> _FieldsetSpec:
        others = [f for f in self.get_fields(request, obj) if f not in self.WEATHER_FIELDS]
        return [(None, {"fields": others}),
                ("Weather (docs/weather.md; empty until a lookup succeeds)", {"fields": self.WEATHER_FIELDS})]
    list_select_related = ("vehicle",)
    date_hierarchy = "started_at"
    search_fields = ("session",)


@admin.register(Reading)
class ReadingAdmin(ReadOnlyAdmin):
    list_display = ("recorded_at", "vehicle", "trip_id", "speed_mph", "soc_pct", "engine_rpm", "hv_power_kw",
                    "odometer_miles", "fuel_level_pct")
    list_decimals = {"speed_mph": 1, "soc_pct": 1, "engine_rpm": 0, "hv_power_kw": 2, "odometer_miles": 1,
                     "fuel_level_pct": 1}
    list_filter = ("vehicle",)
    list_select_related = ("vehicle",)
    date_hierarchy = "recorded_at"
    show_full_result_count = False  # COUNT(*) over millions of readings is the slow part of the page


from telemetry import admin_stats  # noqa: E402, F401 - registers the statistics admin
# Charging sessions and refuels live in their own module; importing it registers them.
from telemetry import admin_charging  # noqa: E402, F401
