"""Moving a seeded default of the active policy in a data migration (not a migration itself: `_` prefix).

A default moves only where the admin left it as seeded, so a deploy never overrides an admin's choice;
business facts new in this release are added to the critical ones (no admin has chosen about them yet).
An admin-edited policy gets a new version and a PolicyChange entry naming the migration, as a save
in the admin would; the untouched seed (version 1, no history) is simply the seed, edited in place.
Historical models have no `payload()`: logging_policy/payload.py builds it from their fields, with
the budget fields only where the model has them (0005 on).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# The admin's own payload and diff, so that a migration's history entry reads like an admin's.
from logging_policy.payload import payload_diff, policy_payload

# (operation, sample rate as seeded or None for no rule, new sample rate or None for no rule)
RuleMove = tuple[str, float | None, float | None]


def _payload(policy: Any) -> dict[str, Any]:
    return policy_payload(policy, ((rule.operation, rule) for rule in policy.rules.order_by("operation")))


def _rule_move(apps: Any, policy: Any, operation: str, seeded: float | None, new: float | None) -> None:
    rule = policy.rules.filter(operation=operation).first()
    current = None if rule is None else rule.sample_rate
    if (rule is not None and rule.always_keep) or current != seeded:
        return  # the admin chose otherwise
    if new is None:
        rule.delete()
    elif rule is None:
        apps.get_model("logging_policy", "OperationRule").objects.create(policy=policy, operation=operation,
                                                                          sample_rate=new)
    else:
        rule.sample_rate = new
        rule.save(update_fields=["sample_rate"])


def defaults_move(apps: Any, *, rules: Sequence[RuleMove] = (), critical_add: Sequence[str] = (),
                  critical_remove: Sequence[str] = (), by: str) -> None:
    """Apply `rules` (seeded -> new sample rate) and the critical-event changes to the active policy."""
    policy = apps.get_model("logging_policy", "LoggingPolicy").objects.filter(is_active=True).first()
    if policy is None:
        return
    before = _payload(policy)
    for operation, seeded, new in rules:
        _rule_move(apps, policy, operation, seeded, new)
    critical = set(policy.critical_events or []) | set(critical_add)
    policy.critical_events = sorted(critical - set(critical_remove))
    policy.save(update_fields=["critical_events"])
    after = _payload(policy)
    if after == before or (policy.version == 1 and not policy.changes.exists()):
        return
    policy.version += 1
    policy.save(update_fields=["version", "updated_at"])
    after["version"] = policy.version
    apps.get_model("logging_policy", "PolicyChange").objects.create(
        policy=policy, changed_by=None, changed_by_username=by, version=policy.version,
        before=before, after=after, diff=payload_diff(before, after),
    )
