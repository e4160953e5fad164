from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from telemetry.views_home import home
from volttracker.health import healthz
from volttracker.views import favicon

admin.site.site_header = admin.site.site_title = "VoltTracker"
admin.site.index_title = "Vehicles, trips and logging"

urlpatterns = [
    # Before admin/: the event explorer lives under the logging_policy app's admin addresses.
    path("admin/logging_policy/explore/", include("logging_policy.explore_urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    # Browsers ask for /favicon.ico whatever the page says: send them to the icon, not to a 404 event.
    path("favicon.ico", favicon),
    path("", home, name="home"),  # the admin's "View site" (site_url "/") lands here
    path("", include("telemetry.urls")),
]

handler400 = "logging_policy.views.bad_request"
handler404 = "logging_policy.views.not_found"
handler500 = "logging_policy.views.server_error"
