"""The policy as plain data: the form kept in the shared cache and in PolicyChange records. Pure.

A payload is a JSON-able dict; `snapshot_from_payload(snapshot_to_payload(s)) == s`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from logging_policy.sampling import (
    AUDIT_EVENTS,
    DEFAULT_BUDGET_PER_MINUTE,
    DEFAULT_KEY_FIELDS,
    KEY_FIELDS,
    OperationRule,
    PolicySnapshot,
)

Payload = dict[str, Any]
# Fields a data migration's historical row lacks before migration 0005; any other missing field is a bug
# and raises, rather than dropping out of payloads and the admin's history diffs.
_FROM_0005 = frozenset({"default_budget_per_minute", "budget_per_minute"})

RULE_FIELDS = ("sample_rate", "always_keep", "budget_per_minute")
SCALAR_FIELDS = ("version", "default_sample_rate", "default_slow_threshold_ms", "heavy_min_trips",
                 "moderate_min_trips", "new_vehicle_days", "new_vehicle_rate", "dry_run", "default_budget_per_minute")


def policy_payload(policy: Any, rules: Iterable[tuple[str, Any]]) -> Payload:
    """The payload of anything that holds the policy's fields by name, with its rules as (operation, rule)
    pairs: a PolicySnapshot, a LoggingPolicy row, or a data migration's historical row, which has the
    budget fields (`default_budget_per_minute`, `key_fields`, a rule's `budget_per_minute`) only from
    migration 0005 on; before, they are left out. Audit events are critical whatever a policy says, so
    they are not part of it."""
    payload: Payload = {name: getattr(policy, name) for name in SCALAR_FIELDS
                        if name not in _FROM_0005 or hasattr(policy, name)}
    payload["default_slow_threshold_ms"] = float(policy.default_slow_threshold_ms)
    payload["always_keep_tiers"] = sorted(policy.always_keep_tiers or [])
    payload["critical_events"] = sorted(set(policy.critical_events or []) - AUDIT_EVENTS)
    if hasattr(policy, "key_fields"):
        payload["key_fields"] = [name for name in KEY_FIELDS if name in (policy.key_fields or ())]
    payload["rules"] = {
        name: {field: getattr(rule, field) for field in RULE_FIELDS if field not in _FROM_0005 or hasattr(rule, field)}
        | {"slow_threshold_ms": None if rule.slow_threshold_ms is None else float(rule.slow_threshold_ms)}
        for name, rule in sorted(rules, key=lambda pair: pair[0])
    }
    return payload


def snapshot_to_payload(snapshot: PolicySnapshot) -> Payload:
    return policy_payload(snapshot, snapshot.rules.items())


def snapshot_from_payload(payload: Payload, *, source: str, degraded: str = "") -> PolicySnapshot:
    """The snapshot for `payload`; audit events are critical whatever the payload says.

    A payload published before budgets existed (still in the shared cache during a deploy)
    reads with the default budget and key fields.
    """
    rules = {
        name: OperationRule(
            sample_rate=float(rule["sample_rate"]),
            slow_threshold_ms=None if rule["slow_threshold_ms"] is None else float(rule["slow_threshold_ms"]),
            always_keep=bool(rule["always_keep"]),
            budget_per_minute=None if rule.get("budget_per_minute") is None else int(rule["budget_per_minute"]),
        )
        for name, rule in payload["rules"].items()
    }
    return PolicySnapshot(
        version=int(payload["version"]),
        default_sample_rate=float(payload["default_sample_rate"]),
        default_slow_threshold_ms=float(payload["default_slow_threshold_ms"]),
        heavy_min_trips=int(payload["heavy_min_trips"]),
        moderate_min_trips=int(payload["moderate_min_trips"]),
        new_vehicle_days=int(payload["new_vehicle_days"]),
        new_vehicle_rate=float(payload["new_vehicle_rate"]),
        always_keep_tiers=frozenset(payload["always_keep_tiers"]),
        critical_events=frozenset(payload["critical_events"]) | AUDIT_EVENTS,
        dry_run=bool(payload["dry_run"]),
        default_budget_per_minute=int(payload.get("default_budget_per_minute", DEFAULT_BUDGET_PER_MINUTE)),
        key_fields=tuple(payload.get("key_fields", DEFAULT_KEY_FIELDS)),
        rules=rules,
        source=source,
        degraded=degraded,
    )


def payload_diff(before: Payload | None, after: Payload) -> dict[str, list[Any]]:
    """`{"path": [old, new]}` for every value that changed (rules as `rules.<operation>.<field>`)."""
    before = before or {}

    def flat(payload: Payload) -> dict[str, Any]:
        out = {k: v for k, v in payload.items() if k not in ("rules", "version")}
        for name, rule in payload.get("rules", {}).items():
            out.update({f"rules.{name}.{k}": v for k, v in rule.items()})
        return out

    old, new = flat(before), flat(after)
    return {key: [old.get(key), new.get(key)] for key in sorted(old.keys() | new.keys())
            if old.get(key) != new.get(key)}
