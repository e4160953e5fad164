"""The privacy table (logging_policy/redact.py) against docs/events.schema.json, and where untrusted text is scrubbed."""

from __future__ import annotations

import orjson

from logging_policy.emit import event_emit, event_open
from logging_policy.redact import (
    CORE_FIELDS,
    SCREENS,
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
from logging_policy.vocabulary import vocabulary
from tests.event_schema import schema


def test_the_table_names_only_fields_of_the_schema_with_one_origin_each() -> None:
    properties = schema()["properties"]
    assert set(TOP_LEVEL) <= set(properties)
    assert {(ns, name) for ns, name in NESTED if name not in properties[ns]["properties"]} == set()
    assert {row[0] for row in TOP_LEVEL.values()} == {PROCESS, SERVICE, FIXED, UNTRUSTED}
    assert set(NESTED.values()) == {SERVICE, FIXED}


def test_what_the_scrub_keeps_whole_is_what_the_service_wrote_or_the_schema_fixed() -> None:
    written = {name for name, row in TOP_LEVEL.items() if row[0] in (PROCESS, SERVICE)}
    registered = vocabulary().written  # by telemetry at start-up, as its fixed fields
    assert kept_whole() - schema_fixed() == (
        written | {pair for pair, origin in NESTED.items() if origin == SERVICE} | registered)
    assert "request_id" not in kept_whole() and ("http", "path") not in kept_whole()
    assert ("telemetry", "outcome") in schema_fixed() and "trip" in registered
    assert ("telemetry", "stored") in registered and ("telemetry", "session") not in kept_whole()


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


def test_an_untrusted_value_is_scrubbed_when_it_is_set_and_a_written_one_is_stored_as_it_is() -> None:
    event = event_open(operation="probe", kind="http")
    event.redact_value("s3cr3t-token")
    counts = {"id": 7, "created": True, "readings_before": 3}
    event.set("trip", counts)
    assert event.data["trip"] is not counts and event.data["trip"] == counts
    assert SCREENS["trip"](counts)  # the next `set` of these fields passes the screen: no scrub, no copy per field
    event.set("http", method="GET", route="api/x/<str:token>", path="/x/s3cr3t-token", user_agent="a@b.example")
    event.set("telemetry", stored=True, outcome="stored", session="Bearer abcdefgh1234", token="s3cr3t-token")
    # Before any emission: the event holds no secret, whether it is kept or dropped.
    assert event.data["http"] == {"method": "GET", "route": "api/x/<str:token>", "path": "/x/[redacted]",
                                  "user_agent": "[redacted]"}
    assert event.data["telemetry"] == {"stored": True, "outcome": "stored", "session": "Bearer [redacted]",
                                       "token": "[redacted]"}


def test_a_secret_learned_after_a_value_was_set_is_replaced_in_it_before_the_line_is_written(wide_events) -> None:
    run = "Zq9xVAbcdEfGhIjKlMnOpQrStUvWx-_2"  # shaped like an upload token
    event = event_open(operation="probe", kind="http")
    event.set("vehicle", note=f"seen {run} twice")
    event.add_error(ValueError(f"no vehicle for {run}"))
    event.set_when_kept("telemetry", lambda e: {"session": e.client_text(f"Torque/1.0 ({run})", 64)})
    assert event.data["vehicle"]["note"] == f"seen {run} twice"  # not known to be a secret yet
    assert event_emit(event) is True
    [line] = wide_events.lines
    assert run not in line
    written = orjson.loads(line)
    assert (written["vehicle"]["note"], written["error"]["message"], written["telemetry"]["session"]) == (
        "seen [redacted] twice", "ValueError: no vehicle for [redacted]", "Torque/1.0 ([redacted])")


def test_a_known_secret_in_the_key_of_an_untrusted_object_is_replaced(wide_events) -> None:
    """The scrub of the serialized line replaced e-mails in keys but never a known secret: an object keyed by
    what a client sent (a column name, a parameter) kept the token. Only a namespace's own field names,
    which the code chose, keep a known secret (a token spelling `http` must not rename a namespace)."""
    event = event_open(operation="probe", kind="task")
    event.redact_value("s3cr3t-token")
    event.set("external", columns={"k-s3cr3t-token": 1, "jane@example.com": 2})
    assert event_emit(event) is True
    [line] = wide_events.lines
    assert "s3cr3t" not in line and "jane" not in line
    assert wide_events.events[0]["external"] == {"columns": {"k-[redacted]": 1, "[redacted]": 2}}
