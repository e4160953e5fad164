"""The direct writer: our default handlers get the bytes with no LogRecord; any other setup goes through logging."""

from __future__ import annotations

import errno
import io
import logging
import os
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from logging_policy.events import WideEvent
from logging_policy.emit import SafeFileHandler, SafeStreamHandler, event_emit, event_open
from logging_policy.ids import event_timestamp, new_ids
from logging_policy.metadata import STATIC_NAMESPACES, static_fields_shared
from logging_policy.policy import policy_override
from tests.conftest import KEEP_ALL



@pytest.fixture
def only_handler() -> Iterator[list[logging.Handler]]:
    """The `wide_events` logger with exactly the handlers the test puts in the list."""
    logger = logging.getLogger("wide_events")
    chosen: list[logging.Handler] = []
    saved, logger.handlers = logger.handlers, chosen
    with policy_override(KEEP_ALL):
        yield chosen
    logger.handlers = saved
    for handler in chosen:
        handler.close()


def _emit_probe(secret: str = "s3cr3t-token-value") -> None:
    event = event_open(operation="probe", kind="task")
    event.redact_value(secret)
    event.set("http", path=f"/api/torque/upload/{secret}", user_agent="Bearer abcdefghij")
    assert event_emit(event) is True


def test_file_handler_gets_one_redacted_json_line_per_event(only_handler, tmp_path: Path) -> None:
    only_handler.append(SafeFileHandler(str(tmp_path / "events.jsonl")))
    _emit_probe()
    _emit_probe()
    raw = (tmp_path / "events.jsonl").read_bytes()
    lines = raw.splitlines()
    assert len(lines) == 2 and raw.endswith(b"\n")
    event = orjson.loads(lines[0])
    assert event["http"]["path"] == "/api/torque/upload/[redacted]"
    assert event["http"]["user_agent"] == "Bearer [redacted]"
    assert b"s3cr3t" not in raw and b"abcdefghij" not in raw


def test_file_handler_follows_a_rotated_file(only_handler, tmp_path: Path) -> None:
    handler = SafeFileHandler(str(tmp_path / "events.jsonl"))
    only_handler.append(handler)
    _emit_probe()
    (tmp_path / "events.jsonl").rename(tmp_path / "events.jsonl.1")
    handler._checked_at = 0.0  # the next write is "a second later"
    _emit_probe()
    assert len((tmp_path / "events.jsonl.1").read_bytes().splitlines()) == 1
    assert len((tmp_path / "events.jsonl").read_bytes().splitlines()) == 1


def test_a_line_torn_by_a_full_disk_costs_only_itself(tmp_path: Path, monkeypatch) -> None:
    # The handler alone: what a short write does to the file does not depend on the logger's setup.
    handler = SafeFileHandler(str(tmp_path / "events.jsonl"))
    real_write, calls = os.write, []

    def disk_fills_mid_line(fd: int, data: bytes) -> int:
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, data[:100])  # a short write ...
        raise OSError(errno.ENOSPC, "No space left on device")  # ... and no room for the rest

    line = orjson.dumps({"operation": "probe", "pad": "x" * 300})
    monkeypatch.setattr(os, "write", disk_fills_mid_line)
    handler.write_line(line)
    monkeypatch.setattr(os, "write", real_write)  # space again
    handler.write_line(line)
    handler.write_line(line)
    handler.close()
    lines = (tmp_path / "events.jsonl").read_bytes().split(b"\n")
    assert len(calls) == 2 and lines[0] == line[:100]  # the torn line, ended by the next line's newline
    assert [orjson.loads(text)["operation"] for text in lines[1:-1]] == ["probe", "probe"] and lines[-1] == b""


def test_stream_handler_writes_to_the_binary_buffer_under_text(only_handler) -> None:
    buffer = io.BytesIO()
    only_handler.append(SafeStreamHandler(io.TextIOWrapper(buffer, encoding="utf-8")))
    _emit_probe()
    assert orjson.loads(buffer.getvalue())["operation"] == "probe"


def test_a_configured_formatter_still_applies(only_handler) -> None:
    stream = io.StringIO()
    handler = SafeStreamHandler(stream)
    handler.setFormatter(logging.Formatter("EVENT %(message)s"))
    only_handler.append(handler)
    _emit_probe()
    assert stream.getvalue().startswith('EVENT {"timestamp"')


def test_a_subclass_that_changes_emit_gets_records_not_bytes(only_handler) -> None:
    class Tagging(SafeStreamHandler):  # inherits write_line, overrides emit: must be called
        def emit(self, record: logging.LogRecord) -> None:
            self.stream.write("TAGGED " + record.getMessage() + "\n")

    class Direct(logging.Handler):  # defines write_line itself: takes the bytes
        def __init__(self) -> None:
            super().__init__()
            self.lines: list[bytes] = []

        def write_line(self, line: bytes) -> None:
            self.lines.append(line)

    tagged = io.StringIO()
    only_handler.append(Tagging(tagged))
    _emit_probe()
    assert tagged.getvalue().startswith('TAGGED {"timestamp"')
    direct = Direct()
    only_handler[:] = [direct]
    _emit_probe()
    assert len(direct.lines) == 1 and orjson.loads(direct.lines[0])["operation"] == "probe"


def test_a_handler_above_info_gets_nothing(only_handler) -> None:
    stream = io.StringIO()
    handler = SafeStreamHandler(stream)
    handler.setLevel(logging.WARNING)
    only_handler.append(handler)
    _emit_probe()
    assert stream.getvalue() == ""


def test_timestamp_is_iso_utc_with_milliseconds() -> None:
    before = datetime.now(UTC)
    stamp = event_timestamp()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp)
    parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    assert abs((parsed - before).total_seconds()) < 1.0


def test_fresh_ids_are_random_uuid4_request_ids_and_32_hex_trace_ids() -> None:
    pairs = [new_ids() for _ in range(2000)]
    for request_id, trace_id in pairs:
        parsed = uuid.UUID(request_id)
        assert (str(parsed), parsed.version, parsed.variant) == (request_id, 4, uuid.RFC_4122)
        assert re.fullmatch(r"[0-9a-f]{32}", trace_id)
    assert len({r for r, _ in pairs}) == len({t for _, t in pairs}) == 2000
    # The trace id feeds the sampling draw: its digits carry no fixed bits (all 16 values in each place).
    assert all(len({t[i] for _, t in pairs}) == 16 for i in range(32))
    # The request id fixes only the version digit (4) and the variant's two bits (8, 9, a or b).
    digits = [r.replace("-", "") for r, _ in pairs]
    assert {d[12] for d in digits} == {"4"} and {d[16] for d in digits} == set("89ab")
    assert all(len({d[i] for d in digits}) == 16 for i in range(32) if i not in (12, 16))


def test_writing_to_a_shared_namespace_copies_it_for_that_event_only() -> None:
    event = event_open(operation="probe", kind="task")
    event.set("feature_flags", probe_flag=True)
    event.append("service", "notes", "x")
    assert "probe_flag" not in static_fields_shared()["feature_flags"]
    assert "notes" not in static_fields_shared()["service"]
    assert event.data["feature_flags"]["probe_flag"] is True
    assert event_open(operation="probe", kind="task").data["feature_flags"] == static_fields_shared()["feature_flags"]
    # Without their names the event finds them itself: a write still copies first.
    shared = {"service": {"name": "probe"}}
    unnamed = WideEvent(operation="probe", kind="task", shared=shared)
    unnamed.set("service", version="9")
    assert shared == {"service": {"name": "probe"}} and unnamed.data["service"] == {"name": "probe", "version": "9"}


def test_the_static_namespace_names_are_the_shared_namespaces() -> None:
    assert STATIC_NAMESPACES == static_fields_shared().keys()
    event = event_open(operation="probe", kind="task")
    for name in STATIC_NAMESPACES:  # every shared namespace is copied before a write, not written through
        event.set(name, probe=True)
        assert "probe" not in static_fields_shared()[name]


def test_set_takes_a_built_dict_without_keeping_the_callers_dict() -> None:
    event = event_open(operation="probe", kind="task")
    described = {"soc_pct": 80.5, "email": "owner@example.org"}
    event.set("telemetry", described)
    event.set("telemetry", {"stored": True}, outcome="stored")
    described["soc_pct"] = 1.0  # the caller's dict stays the caller's
    assert event.data["telemetry"] == {"soc_pct": 80.5, "email": "[redacted]", "stored": True, "outcome": "stored"}
    assert described == {"soc_pct": 1.0, "email": "owner@example.org"}
