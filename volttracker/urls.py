from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from volttracker.health import healthz

urlpatterns = [
    # Before admin/: the event explorer lives under the logging_policy app's admin addresses.
    path("admin/logging_policy/explore/", include("logging_policy.explore_urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("", include("telemetry.urls")),
]

handler400 = "logging_policy.views.bad_request"
handler404 = "logging_policy.views.not_found"
handler500 = "logging_policy.views.server_error"
