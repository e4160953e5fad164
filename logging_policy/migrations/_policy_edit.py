"""Moving a seeded default of the active policy in a data migration (not a migration itself: `_` prefix).

A default moves only where the admin left it as seeded, so a deploy never overrides an admin's choice;
business facts new in this release are added to the critical ones (no admin has chosen about them yet).
An admin-edited policy gets a new version and a PolicyChange entry naming the migration, as a save
in the admin would; the untouched seed (version 1, no history) is simply the seed, edited in place.
The payload is built here, as of the schema of 0001 plus the budget fields of 0005 where the model
has them: historical models have no `payload()`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# The admin's own diff, so that a migration's history entry reads like an admin's.
from logging_policy.payload import payload_diff
from logging_policy.sampling import KEY_FIELDS

# (operation, sample rate as seeded or None for no rule, new sample rate or None for no rule)
RuleMove = tuple[str, float | None, float | None]


def _payload(policy: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        name: getattr(policy, name)
        for name in ("version", "default_sample_rate", "heavy_min_trips", "moderate_min_trips", "new_vehicle_days",
                     "new_vehicle_rate", "dry_run")
    }
    data["default_slow_threshold_ms"] = float(policy.default_slow_threshold_ms)
    data["always_keep_tiers"] = sorted(policy.always_keep_tiers or [])
    data["critical_events"] = sorted(policy.critical_events or [])
    budgets = hasattr(policy, "default_budget_per_minute")  # from 0005 on
    if budgets:
        data["default_budget_per_minute"] = policy.default_budget_per_minute
        data["key_fields"] = [name for name in KEY_FIELDS if name in (policy.key_fields or [])]
    data["rules"] = {}
    for rule in policy.rules.order_by("operation"):
        data["rules"][rule.operation] = {
            "sample_rate": rule.sample_rate, "always_keep": rule.always_keep,
            "slow_threshold_ms": None if rule.slow_threshold_ms is None else float(rule.slow_threshold_ms)}
        if budgets:
            data["rules"][rule.operation]["budget_per_minute"] = rule.budget_per_minute
    return data


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
