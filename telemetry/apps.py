from __future__ import annotations

from django.apps import AppConfig


class TelemetryConfig(AppConfig):
    name = "telemetry"
    verbose_name = "Telemetry"

    def ready(self) -> None:
        # Register the tasks in every process (web, manage.py, worker): services queue them by name
        # (telemetry/enqueue.py), and Celery's own discovery would import them only on first use.
        from telemetry import tasks  # noqa: F401, PLC0415
        from telemetry.event_vocabulary import telemetry_vocabulary_register  # noqa: PLC0415

        telemetry_vocabulary_register()
