"""The seven questions of docs/queries.md as saved explorer queries (admins may edit them or add more)."""

from __future__ import annotations

from typing import Any

from django.db import migrations

NOT_OK = {"field": "success", "op": "=", "value": False}
QUERIES: list[dict[str, Any]] = [
    {"slug": "errors-for-session", "title": "Errors for a session",
     "description": "Failed requests and tasks of one Torque session (?session=...), by error code.",
     "definition": {"days": None, "filters": [{"field": "telemetry.session", "op": "=", "value": "$session"}, NOT_OK],
                    "group_by": ["error.code", "operation"], "aggregate": "COUNT"}},
    {"slug": "heavy-trips-30d", "title": "Trips of heavy vehicles, last 30 days",
     "description": "Trip finalizations of vehicles in the heavy usage tier, per vehicle.",
     "definition": {"days": 30, "filters": [{"field": "business.trip_finalized", "op": "=", "value": True},
                                            {"field": "vehicle.usage_tier", "op": "=", "value": "heavy"}],
                    "group_by": ["vehicle.id"], "aggregate": "COUNT"}},
    {"slug": "errors-in-deployment", "title": "Errors in a deployment",
     "description": "Failures in one deployment (?deployment=<deployment.id>), by operation and error code.",
     "definition": {"days": None, "filters": [{"field": "deployment.id", "op": "=", "value": "$deployment"}, NOT_OK],
                    "group_by": ["operation", "error.code"], "aggregate": "COUNT"}},
    {"slug": "new-vehicles-trip-errors", "title": "New vehicles with trip errors",
     "description": "Failed trip work of vehicles younger than the policy's new-vehicle threshold.",
     "definition": {"days": None, "filters": [NOT_OK, {"field": "operation", "op": "contains", "value": "trip"},
                                              {"field": "vehicle.account_age_days", "op": "<",
                                               "value": "$policy.new_vehicle_days"}],
                    "group_by": ["vehicle.id", "error.code"], "aggregate": "COUNT"}},
    {"slug": "slow-trip-finalizations", "title": "Slow trip finalizations (over 2 s)",
     "description": "trip_finalize runs over 2,000 ms, per vehicle, with the slowest.",
     "definition": {"days": None, "filters": [{"field": "operation", "op": "=", "value": "trip_finalize"},
                                              {"field": "duration_ms", "op": ">", "value": 2000}],
                    "group_by": ["vehicle.id"], "aggregate": "MAX", "field": "duration_ms"}},
    {"slug": "weather-timeouts", "title": "Weather API timeouts",
     "description": "Weather calls that failed with a timeout (E100), per deployment.",
     "definition": {"days": None, "filters": [{"field": "operation", "op": "=", "value": "external_api.weather"},
                                              NOT_OK, {"field": "error.code", "op": "=", "value": "E100"}],
                    "group_by": ["deployment.id"], "aggregate": "COUNT"}},
    {"slug": "error-rate-by-environment", "title": "Error rate by environment",
     "description": "Weighted share of failed events, production against staging (and any other).",
     "definition": {"days": None, "filters": [], "group_by": ["deployment.environment"], "aggregate": "COUNT",
                    "rate": NOT_OK}},
]


def forward(apps: Any, schema_editor: Any) -> None:
    SavedQuery = apps.get_model("logging_policy", "SavedQuery")
    for query in QUERIES:
        SavedQuery.objects.update_or_create(slug=query["slug"], defaults=query)


def backward(apps: Any, schema_editor: Any) -> None:
    apps.get_model("logging_policy", "SavedQuery").objects.filter(slug__in=[q["slug"] for q in QUERIES]).delete()


class Migration(migrations.Migration):
    dependencies = [("logging_policy", "0006_saved_query")]

    operations = [migrations.RunPython(forward, backward)]
