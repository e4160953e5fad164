from __future__ import annotations

from django.urls import path, register_converter

from telemetry import views, views_charging, views_stats


class RowIdConverter:
    """A row id as PostgreSQL's bigint holds it: a 20-digit id is no row, so the URL does not route
    (404 `E004`), instead of reaching the view and the event as a number beyond 64 bits."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > 2**63 - 1:
            raise ValueError("beyond bigint")  # Django's sign that the pattern does not match
        return number

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(RowIdConverter, "id")

urlpatterns = [
    path("api/torque/upload/<str:token>", views.torque_upload, name="torque_upload"),
    path("api/torque/upload/<str:token>/", views.torque_upload),
    path("api/vehicles/<id:vehicle_id>/trips/", views.vehicle_trips, name="vehicle_trips"),
    path("api/vehicles/<id:vehicle_id>/stats/", views_stats.vehicle_stats, name="vehicle_stats"),
    path("api/trips/<id:trip_id>/", views.trip_detail, name="trip_detail"),
    path("api/vehicles/<id:vehicle_id>/charging/", views_charging.vehicle_charging, name="vehicle_charging"),
    path("api/vehicles/<id:vehicle_id>/refuels/", views_charging.vehicle_refuels, name="vehicle_refuels"),
]
