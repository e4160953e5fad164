"""The Celery application; configured from Django settings (`CELERY_*`)."""

from __future__ import annotations

import logging.config
import os
from typing import Any

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "volttracker.settings")

app = Celery("volttracker")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.setup_logging.connect
def _logging_from_django(loglevel: int | str | None = None, **_: Any) -> None:
    """The worker and beat log through Django's LOGGING (console with the redaction filter, Celery's
    per-task loggers at CELERY_TASK_LOG_LEVEL) instead of handlers of their own; `--loglevel` sets
    the root level, as Celery's own setup would."""
    from django.conf import settings  # noqa: PLC0415 - read when the worker starts, after Django is set up

    logging.config.dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)
