"""Celery tasks of the logging policy: thin, each calls a service and emits its own wide event."""

from __future__ import annotations

from celery import shared_task

from logging_policy.policy import policy_shared_reconcile


# Runs every few seconds: a run that takes longer is stuck.
@shared_task(name="logging_policy.tasks.policy_sync", soft_time_limit=10, time_limit=20)
def policy_sync() -> bool:
    """Put the database's policy in the shared cache if a publish was lost (beat, every few seconds)."""
    return policy_shared_reconcile()
