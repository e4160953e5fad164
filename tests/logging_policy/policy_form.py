"""The POST body of the policy's admin page, built from the database as the browser would send it."""

from __future__ import annotations

from typing import Any

from logging_policy.models import LoggingPolicy

SCALARS = ("default_sample_rate", "default_slow_threshold_ms", "moderate_min_trips", "heavy_min_trips",
           "new_vehicle_days", "new_vehicle_rate", "default_budget_per_minute")


def policy_form_data(policy: LoggingPolicy, *, rules: dict[str, dict[str, Any]] | None = None,
                     **changes: Any) -> dict[str, Any]:
    """The current values with `changes` (fields) and `rules` (operation -> field changes) applied."""
    values: dict[str, Any] = {name: getattr(policy, name) for name in SCALARS}
    values.update(always_keep_tiers=policy.always_keep_tiers, critical_events=policy.critical_events,
                  key_fields=policy.key_fields, dry_run=policy.dry_run)
    values.update(changes)
    data = {k: v for k, v in values.items() if v is not False}
    data["edited_version"] = policy.version  # the page's hidden field: the version it was loaded at
    if data.get("dry_run") is True:
        data["dry_run"] = "on"
    existing = list(policy.rules.order_by("operation"))
    data.update({"rules-TOTAL_FORMS": len(existing), "rules-INITIAL_FORMS": len(existing),
                 "rules-MIN_NUM_FORMS": 0, "rules-MAX_NUM_FORMS": 1000})
    for i, rule in enumerate(existing):
        fields: dict[str, Any] = {"id": rule.pk, "policy": policy.pk, "operation": rule.operation,
                                  "sample_rate": rule.sample_rate, "slow_threshold_ms": rule.slow_threshold_ms or "",
                                  "always_keep": rule.always_keep, "budget_per_minute": rule.budget_per_minute or ""}
        fields.update((rules or {}).get(rule.operation, {}))
        for key, value in fields.items():
            if value is True:
                data[f"rules-{i}-{key}"] = "on"
            elif value is not False:
                data[f"rules-{i}-{key}"] = value
    return data
