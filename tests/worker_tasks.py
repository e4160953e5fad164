"""Tasks for tests only, registered in the test process and in the live worker (`celery --include`)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from logging_policy.current import current_event


@shared_task(bind=True, name="tests.flaky", max_retries=2, default_retry_delay=0)
def flaky(self: Any, fail_times: int) -> str:
    """Fails its first `fail_times` runs with a retriable error, then succeeds."""
    current_event().set("business", attempt=self.request.retries)
    if self.request.retries < fail_times:
        raise self.retry(exc=ConnectionError("weather API timed out"))
    return "done"
