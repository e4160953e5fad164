"""The privacy table (logging_policy/redact.py) against docs/events.schema.json, and where untrusted text is scrubbed."""

from __future__ import annotations

from logging_policy.emit import event_emit, event_open
from logging_policy.redact import (
    CORE_FIELDS,
    FIXED,
    MINIMAL_FIELDS,
    NESTED,
    PROCESS,
    SERVICE,
    TOP_LEVEL,
    UNTRUSTED,
    kept_whole,
    schema_fixed,
)
from tests.event_schema import schema


def test_the_table_names_only_fields_of_the_schema_with_one_origin_each() -> None:
    properties = schema()["properties"]
    assert set(TOP_LEVEL) <= set(properties)
    assert {(ns, name) for ns, name in NESTED if name not in properties[ns]["properties"]} == set()
    assert {row[0] for row in TOP_LEVEL.values()} == {PROCESS, SERVICE, FIXED, UNTRUSTED}
    assert set(NESTED.values()) == {SERVICE, FIXED}


def test_what_the_scrub_keeps_whole_is_what_the_service_wrote_or_the_schema_fixed() -> None:
    written = {name for name, row in TOP_LEVEL.items() if row[0] in (PROCESS, SERVICE)}
    assert kept_whole() - schema_fixed() == written | {pair for pair, origin in NESTED.items() if origin == SERVICE}
    assert "request_id" not in kept_whole() and ("http", "path") not in kept_whole()
    assert ("telemetry", "outcome") in schema_fixed()  # registered by telemetry at start-up


def test_an_oversized_event_keeps_the_minimal_fields_within_the_core() -> None:
    assert set(MINIMAL_FIELDS) < set(CORE_FIELDS)
    assert [name for name in CORE_FIELDS if name not in MINIMAL_FIELDS] == [
        "parent_span_id", "http", "task", "error", "vehicle"]


def test_untrusted_text_is_scrubbed_before_it_is_cut_and_once_at_emission(wide_events) -> None:
    event = event_open(operation="probe", kind="task")
    event.redact_value("s3cr3t-token")
    assert event.client_text("Bearer abcdefgh1234 and more", 16) == "Bearer [redacted"
    assert event.client_text("x" * 10 + "s3cr3t-token", 16) == "x" * 10 + "[redac"
    event.set("vehicle", note=event.client_text("Torque (jane@example.com) s3cr3t-token", 200))
    assert event_emit(event) is True
    assert wide_events.events[0]["vehicle"]["note"] == "Torque ([redacted]) [redacted]"
