"""Policy services: the active policy for the admin, and recording a saved change.

A change is recorded inside the admin's transaction (PolicyChange row); once it
commits, the new policy is published to every process and a `policy_changed`
wide event is emitted, which sampling always keeps. A publish that is lost is
made good by beat's `policy_sync` (logging_policy.policy.policy_shared_reconcile).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction

from logging_policy.current import current_event
from logging_policy.emit import event_emit, event_open
from logging_policy.models import LoggingPolicy, OperationRule, PolicyChange
from logging_policy.payload import Payload, payload_diff, snapshot_to_payload
from logging_policy.policy import policy_heal_bound_s, policy_publish
from logging_policy.sampling import default_policy


def policy_active_get_or_create() -> LoggingPolicy:
    """The active policy; created from the defaults when none exists (a flushed database)."""
    policy = LoggingPolicy.objects.filter(is_active=True).first()
    if policy is not None:
        return policy
    seed = snapshot_to_payload(default_policy())
    with transaction.atomic():
        policy, created = LoggingPolicy.objects.get_or_create(
            is_active=True,
            # Version 1, the model's default, as migration 0002 seeds it (the snapshot's 0 means "no row").
            defaults={k: v for k, v in seed.items() if k not in ("rules", "version")},
        )
        if created:
            OperationRule.objects.bulk_create(
                OperationRule(policy=policy, operation=name, **rule) for name, rule in seed["rules"].items()
            )
    return policy


def policy_version_next(*, policy: LoggingPolicy) -> Payload:
    """Lock the policy row for this save and raise its version; returns the values before the save."""
    current = LoggingPolicy.objects.select_for_update().get(pk=policy.pk)
    policy.version = current.version + 1
    return current.payload()


def policy_change_summary(change: PolicyChange) -> str:
    """`field: old → new, ...` of one change, for the admin."""
    return ", ".join(f"{key}: {old} → {new}" for key, (old, new) in change.diff.items())[:300] or "(nothing)"


def policy_stale_message(*, policy_pk: int, edited_version: int) -> str | None:
    """None when `edited_version` is still the policy's version, else who changed what since.

    Locks the row (the admin's save runs in one transaction): of two admins who opened the same
    version, the second to save waits for the first to commit, then is told, instead of silently
    undoing the first edit with the values of the page it loaded.
    """
    current = LoggingPolicy.objects.select_for_update().filter(pk=policy_pk).values_list("version", flat=True).first()
    if current is None or current == edited_version:
        return None
    since = PolicyChange.objects.filter(policy_id=policy_pk, version__gt=edited_version).order_by("version")
    told = "; ".join(f"{change} ({policy_change_summary(change)})" for change in since) or "no change recorded"
    return (f"The policy was changed since you opened it (you edited v{edited_version}, it is now v{current}): "
            f"{told}. Nothing was saved: reload the page to see the current policy, then make your change again.")


def policy_change_record(*, policy: LoggingPolicy, before: Payload | None, user: Any,
                         on_published: Callable[[bool], None] | None = None) -> PolicyChange:
    """Record the saved change; on commit publish it, emit `policy_changed`, tell `on_published`."""
    after = policy.payload()
    change = PolicyChange.objects.create(
        policy=policy,
        changed_by=user if getattr(user, "pk", None) else None,
        changed_by_username=getattr(user, "get_username", lambda: "")(),
        version=policy.version,
        before=before,
        after=after,
        diff=payload_diff(before, after),
    )
    def announce() -> None:
        published = policy_change_announce(change=change)
        if on_published is not None:
            on_published(published)

    transaction.on_commit(announce)
    return change


def policy_change_announce(*, change: PolicyChange) -> bool:
    """Put the change in force and emit its `policy_changed` event; returns whether Redis took it."""
    published = policy_publish(change.after)
    parent = current_event()
    event = event_open(operation="policy_changed", kind="audit",
                       request_id=parent.request_id or None, trace_id=parent.trace_id or None)
    event.fact("policy_changed")
    # The user id, not the name: events carry no personal data; the admin's history shows who.
    event.set("actor", user_id=change.changed_by_id)
    event.set("policy", change_id=change.pk, version=change.version,
              previous_version=(change.before or {}).get("version"), changes=change.diff,
              published=published)
    if not published:
        event.note_warning("E501", "shared cache unreachable: every process sees this policy within "
                                   f"{policy_heal_bound_s():g} s of it coming back (beat's policy_sync)")
    event_emit(event)
    return published
