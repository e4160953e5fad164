"""Give the beat task `policy_sync` (every few seconds) a low rate: its idle runs are noise; a run that
republished a lost policy is kept whole by its `policy_republished` fact (docs/policy.md)."""

from __future__ import annotations

from typing import Any

from django.db import migrations

from logging_policy.migrations._policy_edit import RuleMove, defaults_move

MOVES: list[RuleMove] = [("policy_sync", None, 0.001)]
BY = "migration 0003_policy_sync_rule"


def forward(apps: Any, schema_editor: Any) -> None:
    defaults_move(apps, rules=MOVES, by=BY)


def backward(apps: Any, schema_editor: Any) -> None:
    defaults_move(apps, rules=[(op, new, seeded) for op, seeded, new in MOVES], by=BY)


class Migration(migrations.Migration):
    dependencies = [("logging_policy", "0002_seed_default_policy")]

    operations = [migrations.RunPython(forward, backward)]
