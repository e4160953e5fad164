"""What telemetry's wide events mean to logging_policy: registered once, from TelemetryConfig.ready()."""

from __future__ import annotations

from logging_policy.sampling import OperationRule
from logging_policy.vocabulary import vocabulary_register

# Business facts an admin may mark critical (always kept). Adding a fact in code? List it here.
BUSINESS_EVENTS = ("trip_created", "gas_mode_entered", "trip_finalized", "charging_session_started",
                   "charging_session_closed", "refuel_detected", "weather_catch_up_queued")
# Torque Pro can send no header: the upload token travels in the path, and all that follows it is secret.
UPLOAD_PREFIX = "/api/torque/upload/"
# Fields of telemetry's namespaces whose format docs/events.schema.json fixes (an enum): kept whole.
SCHEMA_FIXED = frozenset({("telemetry", "message_kind"), ("telemetry", "outcome"), ("telemetry", "soc_source"),
                          ("trip", "soc_source")})
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
                        schema_fixed=SCHEMA_FIXED, rules=RULES, timings=TIMINGS, summary_fields=SUMMARY_FIELDS)
