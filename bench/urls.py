"""Production URLs plus the baseline view the ingest benchmark compares the upload endpoint with."""

from __future__ import annotations

from django.urls import path

from bench.views import baseline_insert
from volttracker.urls import urlpatterns as production_urlpatterns

urlpatterns = [
    path("bench/baseline/<int:vehicle_id>/<int:trip_id>", baseline_insert, name="bench_baseline"),
    *production_urlpatterns,
]
