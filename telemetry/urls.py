from __future__ import annotations

from django.urls import path

from telemetry import views, views_charging, views_stats

urlpatterns = [
    path("api/torque/upload/<str:token>", views.torque_upload, name="torque_upload"),
    path("api/torque/upload/<str:token>/", views.torque_upload),
    path("api/vehicles/<int:vehicle_id>/trips/", views.vehicle_trips, name="vehicle_trips"),
    path("api/vehicles/<int:vehicle_id>/stats/", views_stats.vehicle_stats, name="vehicle_stats"),
    path("api/trips/<int:trip_id>/", views.trip_detail, name="trip_detail"),
    path("api/vehicles/<int:vehicle_id>/charging/", views_charging.vehicle_charging, name="vehicle_charging"),
    path("api/vehicles/<int:vehicle_id>/refuels/", views_charging.vehicle_refuels, name="vehicle_refuels"),
]
