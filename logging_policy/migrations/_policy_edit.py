"""Moving a seeded default of the active policy in a data migration (not a migration itself: `_` prefix).

A default moves only where the admin left it as seeded, so a deploy never overrides an admin's choice.
An admin-edited policy gets a new version and a PolicyChange entry naming the migration, as a save
in the admin would; the untouched seed (version 1, no history) is simply the seed, edited in place.
Frozen like any migration: the payload is built here, as of the schema of 0001, not by the model.
"""

from __future__ import annotations

from typing import Any

# (operation, value as seeded or None for no rule, new value or None for no rule)
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
    data["rules"] = {
        rule.operation: {"sample_rate": rule.sample_rate, "always_keep": rule.always_keep,
                         "slow_threshold_ms": None if rule.slow_threshold_ms is None else float(rule.slow_threshold_ms)}
        for rule in policy.rules.order_by("operation")
    }
    return data


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    old = {f"rules.{op}.sample_rate": rule["sample_rate"] for op, rule in before["rules"].items()}
    new = {f"rules.{op}.sample_rate": rule["sample_rate"] for op, rule in after["rules"].items()}
    return {key: [old.get(key), new.get(key)] for key in sorted(old.keys() | new.keys()) if old.get(key) != new.get(key)}


def rules_move(apps: Any, moves: list[RuleMove], *, by: str) -> None:
    """Apply `moves` (seeded -> new sample rate) to the active policy where it still holds the seeded value."""
    policy = apps.get_model("logging_policy", "LoggingPolicy").objects.filter(is_active=True).first()
    if policy is None:
        return
    OperationRule = apps.get_model("logging_policy", "OperationRule")
    before = _payload(policy)
    for operation, seeded, new in moves:
        rule = policy.rules.filter(operation=operation).first()
        current = None if rule is None else rule.sample_rate
        if (rule is not None and rule.always_keep) or current != seeded:
            continue  # the admin chose otherwise
        if new is None:
            rule.delete()
        elif rule is None:
            OperationRule.objects.create(policy=policy, operation=operation, sample_rate=new)
        else:
            rule.sample_rate = new
            rule.save(update_fields=["sample_rate"])
    after = _payload(policy)
    if after == before or (policy.version == 1 and not policy.changes.exists()):
        return
    policy.version += 1
    policy.save(update_fields=["version", "updated_at"])
    apps.get_model("logging_policy", "PolicyChange").objects.create(
        policy=policy, changed_by=None, changed_by_username=by, version=policy.version,
        before=before, after={**after, "version": policy.version}, diff=_diff(before, after),
    )
