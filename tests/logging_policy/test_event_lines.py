"""`manage.py events`: the last wide events, one readable line each."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from logging_policy.event_lines import event_line
from telemetry.drive_sim import DrivePlan, drive_readings

START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def test_a_failed_task_line() -> None:
    event = {"timestamp": "2026-06-01T09:00:01.234567+00:00", "operation": "trip_finalize", "success": False,
             "duration_ms": 1234.56, "sampling": {"reason": "error"}, "trip": {"id": 7}, "vehicle": {"id": 3},
             "error": {"code": "E202"}, "business": {"trip_finalized": True, "weather_queued": 2}}
    assert event_line(event) == ("09:00:01.234 trip_finalize FAILED 1234.6ms kept=error vehicle=3 trip=7 "
                                 "error=E202 +trip_finalized")


@pytest.mark.django_db
def test_the_command_prints_the_last_uploads_events(volt, upload, wide_events, tmp_path: Path) -> None:
    readings = drive_readings(DrivePlan(session="ev-1", start=START))
    for _ in range(3):
        assert upload(volt.token, next(readings)).content == b"OK!"
    assert upload("not-a-token", next(readings)).status_code == 401
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join([*wide_events.lines, '{"torn": '][-6:]) + "\n")
    out = StringIO()
    call_command("events", path=str(path), lines=3, stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2  # the torn last line is skipped, not fatal
    first, last = lines
    assert " telemetry_upload 200 " in first and f"vehicle={volt.vehicle.pk} " in first and "upload=stored" in first
    assert " telemetry_upload 401 " in last and "error=E400" in last and "kept=" in last
    assert all(len(line) < 200 for line in lines)  # a line, not the 2 KB event
    assert volt.token not in out.getvalue()


def test_no_file_says_where_events_go(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="make run` writes var/events.jsonl"):
        call_command("events", path=str(tmp_path / "none.jsonl"), stdout=StringIO())
