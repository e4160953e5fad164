"""Emission: once per event, any value serializes, a broken sink never breaks the request, size bounded."""

from __future__ import annotations

import io
import logging
from collections import OrderedDict, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import orjson
import pytest

from logging_policy import emit
from logging_policy.emit import SafeStreamHandler, event_emit, event_open, serialize
from logging_policy.events import WideEvent
from logging_policy.policy import policy_override
from logging_policy.sampling import PolicySnapshot
from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.models import Reading
from tests.conftest import KEEP_ALL
from tests.event_schema import schema_errors

pytestmark = pytest.mark.django_db
START = datetime(2026, 5, 5, 6, 0, tzinfo=UTC)


class Exploding(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        raise OSError("disk full")

    def handle(self, record: logging.LogRecord) -> bool:  # bypasses logging's own error handling
        self.emit(record)
        return True


@pytest.fixture
def sink_handler() -> Iterator[list[logging.Handler]]:
    logger = logging.getLogger("wide_events")
    added: list[logging.Handler] = []
    yield added
    for handler in added:
        logger.removeHandler(handler)


def test_upload_answers_ok_when_the_event_handler_raises(volt, upload, wide_events, sink_handler) -> None:
    exploding = Exploding()
    logging.getLogger("wide_events").addHandler(exploding)
    sink_handler.append(exploding)
    assert upload(volt.token, next(drive_readings(DrivePlan(session="x-1", start=START)))).content == b"OK!"
    assert Reading.objects.filter(vehicle=volt.vehicle).count() == 1


def test_upload_answers_ok_when_the_stream_is_closed(volt, upload, sink_handler) -> None:
    stream = io.StringIO()
    stream.close()
    closed = SafeStreamHandler(stream)
    logging.getLogger("wide_events").addHandler(closed)
    sink_handler.append(closed)
    before = SafeStreamHandler.failures
    assert upload(volt.token, next(drive_readings(DrivePlan(session="x-2", start=START)))).content == b"OK!"
    assert SafeStreamHandler.failures == before + 1  # the first upload's event is kept (trip_created)


def test_an_event_is_emitted_once(wide_events) -> None:
    event = event_open(operation="probe", kind="task")
    assert event_emit(event) is True
    assert event_emit(event) is False
    assert len(wide_events.lines) == 1


def test_any_value_type_serializes(wide_events) -> None:
    event = event_open(operation="probe", kind="task")
    event.set("vehicle", decimal_value=Decimal("12.5"), seen_at=datetime(2026, 1, 1, tzinfo=UTC), odd=object())
    assert event_emit(event) is True
    [written] = wide_events.events
    assert written["vehicle"]["decimal_value"] == "12.5" and written["vehicle"]["seen_at"] == "2026-01-01T00:00:00+00:00"
    assert written["vehicle"]["odd"].startswith("<object object")


def test_dicts_with_non_string_keys_serialize() -> None:
    line = serialize({"operation": "probe", "by_vehicle": {7: 2, None: 1}, "nested": {"a": {3.5: "x"}}})
    assert orjson.loads(line) == {"operation": "probe", "by_vehicle": {"7": 2, "null": 1}, "nested": {"a": {"3.5": "x"}}}


def test_oversized_event_is_truncated_to_valid_json_with_a_flag(settings, wide_events) -> None:
    settings.WIDE_EVENTS_MAX_BYTES = 4096
    event = event_open(operation="probe", kind="task")
    event.set("trip", implausible=["x" * 1000] * 10)
    event.set("http", method="GET", path="/p")
    assert event_emit(event) is True
    [line] = wide_events.lines
    written = orjson.loads(line)
    assert len(line) <= 4096
    assert written["truncated"] is True and written["original_size_bytes"] > 10_000
    assert "trip" not in written and written["http"]["path"] == "/p" and written["operation"] == "probe"


def test_truncation_falls_back_to_minimal_fields(settings) -> None:
    settings.WIDE_EVENTS_MAX_BYTES = 1500
    event = event_open(operation="probe", kind="http")
    event.set("http", method="GET", path="/" + "y" * 290, user_agent="z" * 200)
    event.set("error", code="E500", name="internal_error", category="system", severity="critical",
              alert=True, retriable=False, message="m" * 500)
    event.set("sampling", reason="error", rate=1.0, sample_rate=1.0, policy_version=0)
    data = event.close()
    assert data is not None
    event.complete_kept()  # as event_emit does for a kept event: the timestamp is written out
    data["trip"] = {"implausible": ["x" * 3000]}
    written = orjson.loads(serialize(data))
    assert written["truncated"] is True and "http" not in written and "error" not in written
    assert written["service"]["name"] == "volttracker"
    assert schema_errors(written) == []


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_handler_that_always_raises_is_reported_once_per_thousand_events(sink_handler, monkeypatch) -> None:
    monkeypatch.setattr(emit, "_emit_failures", 0)  # earlier tests' failures count in this process too
    exploding, said = Exploding(), Collect()
    logging.getLogger("wide_events").addHandler(exploding)
    sink_handler.append(exploding)
    internal = logging.getLogger("logging_policy")
    internal.addHandler(said)
    try:
        with policy_override(KEEP_ALL):
            written = [event_emit(event_open(operation="probe", kind="task")) for _ in range(1500)]
    finally:
        internal.removeHandler(said)
    assert written == [False] * 1500
    errors = [r for r in said.records if r.levelno == logging.ERROR]
    assert len(errors) == 2 and all(r.getMessage().startswith("E502") for r in errors)
    assert errors[0].exc_info is not None and errors[0].exc_info[0] is OSError


def test_what_orjson_refuses_even_with_non_string_keys_serializes_too() -> None:
    huge = 2**70
    line = serialize({"operation": "probe", "n": huge, "by_pair": {(1, 2): 3}, "nested": [{huge: -huge}], "ok": 1})
    assert orjson.loads(line) == {"operation": "probe", "n": str(huge), "by_pair": {"(1, 2)": 3},
                                  "nested": [{str(huge): str(-huge)}], "ok": 1}


def test_dict_subclasses_and_lone_surrogates_serialize_too() -> None:
    odd = defaultdict(int, {(1, 2): 2**70})
    line = serialize({"operation": "probe", "a": OrderedDict({(3,): 1}), "b": odd, "c": "x\udc80y"})
    assert orjson.loads(line) == {"operation": "probe", "a": {"(3,)": 1}, "b": {"(1, 2)": str(2**70)}, "c": "x\\udc80y"}

    class Odd:
        def __str__(self) -> str:
            return "o\udc80"

    assert orjson.loads(serialize({"operation": "probe", "odd": Odd()})) == {"operation": "probe", "odd": "o\\udc80"}


def test_fields_set_when_kept_are_built_for_kept_events_only(sampled_events) -> None:
    built: list[str] = []

    def build(event: WideEvent) -> dict[str, object]:
        built.append(event.trace_id)
        return {"total_miles": 12.5, "outcome": "from the builder"}

    with policy_override(PolicySnapshot(default_sample_rate=0.0, new_vehicle_rate=0.0)):
        dropped = event_open(operation="bench_op", kind="http")
        dropped.set_when_kept("telemetry", build)
        assert event_emit(dropped) is False
    assert built == []  # a dropped event never paid for them
    with policy_override(KEEP_ALL):
        kept = event_open(operation="bench_op", kind="http")
        kept.set_when_kept("telemetry", build)
        kept.set("telemetry", outcome="stored")
        with pytest.raises(ValueError), kept.rollback_guard():
            kept.set_when_kept("trip", build)  # registered in a unit of work that rolled back: forgotten
            raise ValueError
        assert event_emit(kept) is True
    assert built == [kept.trace_id]
    [line] = [e for e in sampled_events.events if e["trace_id"] == kept.trace_id]
    assert line["telemetry"] == {"total_miles": 12.5, "outcome": "stored"}  # what set() put there wins
    assert "trip" not in line
