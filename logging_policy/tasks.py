"""Celery tasks of the logging policy: thin, each calls a service and emits its own wide event."""

from __future__ import annotations

from celery import shared_task

from logging_policy.policy import policy_shared_reconcile


@shared_task(name="logging_policy.tasks.policy_sync")
def policy_sync() -> bool:
    """Put the database's policy in the shared cache if a publish was lost (beat, every few seconds)."""
    return policy_shared_reconcile()
