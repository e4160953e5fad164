from __future__ import annotations

from django.apps import AppConfig


class LoggingPolicyConfig(AppConfig):
    name = "logging_policy"
    verbose_name = "Logging policy"

    def ready(self) -> None:
        # Celery task events: the signal receivers connect on import, in web and worker processes.
        from logging_policy import checks, task_events  # noqa: F401, PLC0415
        from logging_policy.query_recording import query_recording_connect  # noqa: PLC0415

        query_recording_connect()
