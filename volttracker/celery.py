"""The Celery application; configured from Django settings (`CELERY_*`)."""

from __future__ import annotations

import os

from typing import Any

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "volttracker.settings")

app = Celery("volttracker")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def _worker_logs_redacted(logger: Any = None, **_: Any) -> None:
    """The worker replaces the root logger's handlers with its own (worker_hijack_root_logger):
    give them the filter Django's LOGGING gives the console (no upload token or e-mail in a line)."""
    from logging_policy.log_filters import PlainLogRedactFilter  # noqa: PLC0415 - after Django is set up

    for handler in getattr(logger, "handlers", ()):
        if not any(isinstance(f, PlainLogRedactFilter) for f in handler.filters):
            handler.addFilter(PlainLogRedactFilter())
