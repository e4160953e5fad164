"""Celery tasks of the logging policy: thin, each calls a service and emits its own wide event."""

from __future__ import annotations

from celery import shared_task

from logging_policy.current import current_event
from logging_policy.event_loader import events_load_configured
from logging_policy.policy import policy_shared_reconcile


# Runs every few seconds: a run that takes longer is stuck.
@shared_task(name="logging_policy.tasks.policy_sync", soft_time_limit=10, time_limit=20)
def policy_sync() -> bool:
    """Put the database's policy in the shared cache if a publish was lost (beat, every few seconds)."""
    return policy_shared_reconcile()


@shared_task(name="logging_policy.tasks.events_load")
def events_load() -> int:
    """Load the new lines of WIDE_EVENTS_PATH into the event store (beat, every EVENTS_LOAD_INTERVAL_SECONDS)."""
    result = events_load_configured()
    if result is None:
        return 0
    current_event().set("events_store", loaded=result.loaded, malformed=result.malformed, busy=result.busy,
                        files_written=result.files_written, merged=result.merged, expired=result.expired,
                        rotated=result.rotated, rotated_lost=result.rotated_lost)
    return result.loaded
