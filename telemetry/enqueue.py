"""Queueing follow-up work after the database commits, without ever failing the caller.

Services queue tasks by name through this module, so they never import telemetry/tasks.py (which
imports the services); the names are defined here and the task decorators use them.

If the broker is unreachable the work is not lost: the beat schedule finds
every trip and vehicle that still needs it (docs/reliability.md). The event
records the miss with E404 so that it is visible.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import current_app
from django.db import transaction

from logging_policy.current import current_event

logger = logging.getLogger(__name__)

TRIP_FINALIZE = "telemetry.tasks.trip_finalize"
TRIP_WEATHER = "telemetry.tasks.trip_weather"
TRIPS_CLOSE_STALE = "telemetry.tasks.trips_close_stale"
VEHICLE_STATS_REFRESH = "telemetry.tasks.vehicle_stats_refresh"
VEHICLE_STATS_REFRESH_ALL = "telemetry.tasks.vehicle_stats_refresh_all"


def _broker_failed_already(event: Any) -> bool:
    tasks = getattr(event, "data", {}).get("tasks")
    return bool(tasks and tasks.get("enqueue_failed"))


def _send(name: str, args: tuple[Any, ...], event: Any) -> None:
    try:
        if _broker_failed_already(event):
            # One broker timeout per request or task run at most, not one per task to queue.
            raise ConnectionError("broker unreachable earlier in this unit of work")
        # The registry's task object, so eager mode and routing apply as to a direct call. Every process
        # registers the task modules at start (telemetry/apps.py): no import or check runs here.
        current_app.tasks[name].apply_async(args=args)
    except Exception as exc:  # noqa: BLE001 - any broker failure degrades, never fails the request
        event.note_warning("E404", f"could not queue {name}: {type(exc).__name__}")
        event.append("tasks", "enqueue_failed", name)
        logger.warning("could not queue %s: %s", name, type(exc).__name__)
    else:
        event.append("tasks", "queued", name)


def task_enqueue_on_commit(name: str, *args: Any) -> None:
    """Queue the task registered as `name` with `args` once the current transaction commits (at once
    in autocommit); a broker or registry failure is recorded on the event, never raised."""
    event = current_event()
    transaction.on_commit(lambda: _send(name, args, event))
