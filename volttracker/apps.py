"""The project as an app: its start-up work, system checks and static files (vendored browser libraries)."""

from __future__ import annotations

from django.apps import AppConfig
from django.conf import settings


class VoltTrackerConfig(AppConfig):
    name = "volttracker"
    verbose_name = "VoltTracker"

    def ready(self) -> None:
        # Settings only name the directories; every process (web, worker, manage.py) makes them here.
        for path in settings.RUNTIME_DIRS:
            path.mkdir(parents=True, exist_ok=True)
        from volttracker import checks  # noqa: F401, PLC0415 - registers the system checks
