"""Seed the default sampling policy (docs/policy.md). Literal values: a migration must not move
when code changes; tests keep `sampling.default_policy()` equal to this seed."""

from __future__ import annotations

from typing import Any

from django.db import migrations

SEED_POLICY = {
    "version": 1,
    "default_sample_rate": 0.05,
    "default_slow_threshold_ms": 1000,
    "moderate_min_trips": 20,
    "heavy_min_trips": 100,
    "new_vehicle_days": 30,
    "new_vehicle_rate": 0.25,
    "always_keep_tiers": ["heavy"],
    "critical_events": ["charging_session_started", "gas_mode_entered", "refuel_detected", "trip_created",
                        "trip_finalized"],
    "dry_run": False,
}
SEED_RULES = [
    # (operation, sample_rate, slow_threshold_ms, always_keep)
    ("telemetry_upload", 0.05, None, False),
    # Task events name their operation by the task's short name (logging_policy.task_events).
    ("trip_finalize", 1.0, None, False),
    ("trips_close_stale", 1.0, None, False),
    ("trip_weather", 1.0, None, False),
    ("external_api.weather", 1.0, None, False),
]


def seed(apps: Any, schema_editor: Any) -> None:
    LoggingPolicy = apps.get_model("logging_policy", "LoggingPolicy")
    OperationRule = apps.get_model("logging_policy", "OperationRule")
    if LoggingPolicy.objects.filter(is_active=True).exists():
        return
    policy = LoggingPolicy.objects.create(is_active=True, **SEED_POLICY)
    OperationRule.objects.bulk_create(
        OperationRule(policy=policy, operation=op, sample_rate=rate, slow_threshold_ms=slow, always_keep=keep)
        for op, rate, slow, keep in SEED_RULES
    )


def unseed(apps: Any, schema_editor: Any) -> None:
    apps.get_model("logging_policy", "LoggingPolicy").objects.filter(version=1, changes__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("logging_policy", "0001_policy_rules_changes")]

    operations = [migrations.RunPython(seed, unseed)]
