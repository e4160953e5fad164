"""Tasks for tests only, registered in the test process and in the live worker (`celery --include`)."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from celery.utils.log import get_task_logger

from logging_policy.current import current_event


@shared_task(bind=True, name="tests.flaky", max_retries=2, default_retry_delay=0)
def flaky(self: Any, fail_times: int) -> str:
    """Fails its first `fail_times` runs with a retriable error, then succeeds."""
    current_event().set("business", attempt=self.request.retries)
    if self.request.retries < fail_times:
        raise self.retry(exc=ConnectionError("weather API timed out"))
    return "done"


@shared_task(name="tests.log_personal_data")
def log_personal_data(email: str, token: str) -> None:
    """Logs an e-mail and an upload path through a module logger and the task logger."""
    logging.getLogger("telemetry").warning("no vehicle for %s at /api/torque/upload/%s", email, token)
    get_task_logger(__name__).warning("task saw %s", email)
