"""`/`: the home page for staff: each vehicle's last trips, lifetime figures and last charge."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from telemetry.charts import trip_duration_seconds
from telemetry.models import ChargingSession, Trip, Vehicle
from telemetry.vehicle_context import vehicle_stats_of

LAST_TRIPS = 5
HOME_SHOWS = ("telemetry.view_vehicle", "telemetry.view_trip", "telemetry.view_vehiclestats",
              "telemetry.view_chargingsession")


@staff_member_required  # anyone else goes to the admin's login, and comes back here after it
def home(request: HttpRequest) -> HttpResponse:
    """Three queries whatever the number of vehicles: vehicles with stats, their last trips, their last charges."""
    # What the admin would show this user, as the JSON API does (telemetry/api_json.py).
    if not request.user.has_perms(HOME_SHOWS):
        context = {**admin.site.each_context(request), "title": "VoltTracker", "vehicles": [],
                   "missing_permissions": sorted(p for p in HOME_SHOWS if not request.user.has_perm(p))}
        return TemplateResponse(request, "telemetry/home.html", context, status=403)
    vehicles = Vehicle.objects.select_related("stats").order_by("name", "pk").prefetch_related(
        # Sliced prefetches: a window function per vehicle, in one query each.
        Prefetch("trips", queryset=Trip.objects.order_by("-started_at")[:LAST_TRIPS], to_attr="last_trips"),
        Prefetch("charging_sessions", queryset=ChargingSession.objects.order_by("-started_at")[:1],
                 to_attr="last_charges"),
    )
    rows = [{
        "vehicle": v,
        "stats": vehicle_stats_of(v),
        "trips": [(t, trip_duration_seconds(t)) for t in v.last_trips],
        "charge": v.last_charges[0] if v.last_charges else None,
    } for v in vehicles]
    context = {**admin.site.each_context(request), "title": "VoltTracker", "vehicles": rows}
    return TemplateResponse(request, "telemetry/home.html", context)
