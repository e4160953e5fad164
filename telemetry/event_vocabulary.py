"""What telemetry's wide events mean to logging_policy: registered once, from TelemetryConfig.ready()."""

from __future__ import annotations

from logging_policy.sampling import OperationRule
from logging_policy.vocabulary import FieldName, vocabulary_register
from telemetry.vehicle_context import CONTEXT_FIELDS

# Business facts an admin may mark critical (always kept). Adding a fact in code? List it here.
BUSINESS_EVENTS = ("trip_created", "gas_mode_entered", "trip_finalized", "charging_session_started",
                   "charging_session_closed", "refuel_detected", "weather_catch_up_queued")
# Torque Pro can send no header: the upload token travels in the path, and all that follows it is secret.
UPLOAD_PREFIX = "/api/torque/upload/"
# Fields of telemetry's namespaces whose format docs/events.schema.json fixes (an enum): kept whole.
SCHEMA_FIXED = frozenset({("telemetry", "message_kind"), ("telemetry", "outcome"), ("telemetry", "soc_source"),
                          ("trip", "soc_source")})
# What telemetry's code writes (a namespace: all of it), set as it is; the rest (the session, the trip key,
# the protocol version, the rejected keys, what the weather service says) is scrubbed as it is set.
WRITTEN: frozenset[FieldName] = frozenset({"trip", "trips", "tasks", "battery", "stats", "charging", "refuel",
                     *(("vehicle", name) for name in CONTEXT_FIELDS),
                     *(("telemetry", name) for name in (
                         "reading_at", "key_count", "value_count", "unknown_key_count", "rejected_count", "soc_pct",
                         "odometer_miles", "speed_mph", "hv_power_kw", "engine_rpm", "engine_running", "has_gps",
                         "charger_connected", "ambient_temp_f", "fuel_level_pct", "battery_capacity_kwh", "stored",
                         "duplicate", "reading_id", "pids_described"))})
RULES = {
    "telemetry_upload": OperationRule(sample_rate=0.05),
    "trip_finalize": OperationRule(sample_rate=1.0),
    "trip_weather": OperationRule(sample_rate=1.0),
    # Beat's sweep, every minute: idle it is noise. One that closed or queued something carries
    # a critical fact, one that failed is an error: kept whole either way.
    "trips_close_stale": OperationRule(sample_rate=0.01),
    "external_api.weather": OperationRule(sample_rate=1.0),
}
TIMINGS = ("parse", "auth", "parked_detect", "db_insert", "trip_update", "trip_compute")
SUMMARY_FIELDS = (("trip", "id", "trip"), ("telemetry", "outcome", "upload"))  # `manage.py events`


def telemetry_vocabulary_register() -> None:
    vocabulary_register(business_events=BUSINESS_EVENTS, secret_path_prefixes=(UPLOAD_PREFIX,),
                        schema_fixed=SCHEMA_FIXED, written=WRITTEN, rules=RULES, timings=TIMINGS, summary_fields=SUMMARY_FIELDS)
