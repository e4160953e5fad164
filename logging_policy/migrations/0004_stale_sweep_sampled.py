"""The stale-trip sweep (beat, every minute) is sampled at 1 % when idle; one that acted carries a
critical fact (`trip_finalized`, `charging_session_closed`, `weather_catch_up_queued`, the last two new
here) and one that failed is an error, so both are still always kept (docs/policy.md)."""

from __future__ import annotations

from typing import Any

from django.db import migrations

from logging_policy.migrations._policy_edit import RuleMove, defaults_move

MOVES: list[RuleMove] = [("trips_close_stale", 1.0, 0.01)]
NEW_FACTS = ["charging_session_closed", "weather_catch_up_queued"]
BY = "migration 0004_stale_sweep_sampled"


def forward(apps: Any, schema_editor: Any) -> None:
    defaults_move(apps, rules=MOVES, critical_add=NEW_FACTS, by=BY)


def backward(apps: Any, schema_editor: Any) -> None:
    defaults_move(apps, rules=[(op, new, seeded) for op, seeded, new in MOVES], critical_remove=NEW_FACTS, by=BY)


class Migration(migrations.Migration):
    dependencies = [("logging_policy", "0003_policy_sync_rule")]

    operations = [migrations.RunPython(forward, backward)]
