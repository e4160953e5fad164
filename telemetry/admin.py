"""Admin: vehicles (with upload tokens shown once), trips and readings read-only.

The other models' admins live in admin_charging.py and admin_stats.py, which import only admin_display.py:
this module imports them (to register them), never the reverse."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

# Statistics, charging sessions and refuels have their own admin modules: importing them registers them.
from telemetry import admin_charging, admin_stats  # noqa: F401
from telemetry.admin_display import ReadOnlyAdmin
from telemetry.admin_tracklog import TracklogImportMixin
from telemetry.charts import trip_duration_seconds
from telemetry.trip_page import trip_page_context
from telemetry.units import duration_text
from telemetry.models import PidDescription, Reading, Trip, Vehicle
from telemetry.vehicles import upload_url, vehicle_token_reset

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
    # Sized for a 1400 px window with the filters beside it: the efficiency columns stay in view.
    list_display = ("started", "vehicle", "duration", "distance_miles", "electric_miles", "gas_miles",
                    "kwh_per_mile", "gas_mpg", "weather_temp_f")  # open trips: the "is closed" filter
    list_display_links = ("started",)
    list_labels = {"distance_miles": "Miles", "electric_miles": "Electric mi", "gas_miles": "Gas mi",
                   "kwh_per_mile": "kWh/mi", "gas_mpg": "MPG", "weather_temp_f": "Weather °F"}
    list_filter = ("is_closed", "is_drive", "is_plausible", "vehicle", ("gas_mode_entered_at", admin.EmptyFieldListFilter),
                   "soc_source", "extreme_weather", "started_at")
    list_select_related = ("vehicle",)
    date_hierarchy = "started_at"
    search_fields = ("session",)

    @admin.display(description="Started", ordering="started_at")
    def started(self, trip: Trip) -> str:
        return timezone.localtime(trip.started_at).strftime("%Y-%m-%d %H:%M")

    @admin.display(description="h:mm")
    def duration(self, trip: Trip) -> str | None:
        return duration_text(trip_duration_seconds(trip))

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """The trip page (telemetry/trip_page.py): read-only, so anything but a GET is refused."""
        trip = self.get_object(request, unquote(object_id))
        if trip is None:
            # Django's own answer for a missing object (a message and the list); not in the stubs.
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)  # type: ignore[attr-defined]
        if request.method not in ("GET", "HEAD") or not self.has_view_permission(request, trip):
            raise PermissionDenied
        # The route is the readings' positions: shown only to those who may view readings.
        page = trip_page_context(trip, with_route=request.user.has_perm("telemetry.view_reading"))
        context = {**self.admin_site.each_context(request), **page, "opts": self.opts}
        return TemplateResponse(request, "admin/telemetry/trip/page.html", context)


@admin.register(Reading)
class ReadingAdmin(ReadOnlyAdmin):
    list_display = ("recorded_at", "vehicle", "trip_id", "speed_mph", "soc_pct", "engine_rpm", "hv_power_kw",
                    "odometer_miles", "fuel_level_pct")
    list_filter = ("vehicle",)
    list_select_related = ("vehicle",)
    date_hierarchy = "recorded_at"
    show_full_result_count = False  # COUNT(*) over millions of readings is the slow part of the page

