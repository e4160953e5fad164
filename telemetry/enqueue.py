"""Queueing follow-up work after the database commits, without ever failing the caller.

If the broker is unreachable the work is not lost: the beat schedule finds
every trip and vehicle that still needs it (docs/reliability.md). The event
records the miss with E404 so that it is visible.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from django.db import transaction

from logging_policy.current import current_event

logger = logging.getLogger(__name__)


def _broker_failed_already(event: Any) -> bool:
    tasks = getattr(event, "data", {}).get("tasks")
    return bool(tasks and tasks.get("enqueue_failed"))


def _send(task: Task, args: tuple[Any, ...], event: Any) -> None:
    try:
        if _broker_failed_already(event):
            # One broker timeout per request or task run at most, not one per task to queue.
            raise ConnectionError("broker unreachable earlier in this unit of work")
        task.apply_async(args=args)
    except Exception as exc:  # noqa: BLE001 - any broker failure degrades, never fails the request
        event.note_warning("E404", f"could not queue {task.name}: {type(exc).__name__}")
        event.append("tasks", "enqueue_failed", task.name)
        logger.warning("could not queue %s: %s", task.name, type(exc).__name__)
    else:
        event.append("tasks", "queued", task.name)


def task_enqueue_on_commit(task: Task, *args: Any) -> None:
    """Queue `task(*args)` once the current transaction commits (at once in autocommit)."""
    event = current_event()
    transaction.on_commit(lambda: _send(task, args, event))
