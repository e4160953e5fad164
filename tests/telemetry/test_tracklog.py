"""Track-log CSV -> uploads (telemetry/tracklog.py): units, zones, headers, errors. No database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.torque import parse_reading
from telemetry.tracklog import TracklogError, TracklogStats, tracklog_parse
from telemetry.tracklog_sim import LogStyle, tracklog_csv

START = datetime(2026, 1, 3, 23, 55, 17, 889000, tzinfo=UTC)  # 15:55:17.889 PST


def _drive(**plan: Any) -> list[dict[str, str]]:
    return list(drive_readings(DrivePlan(session="sim", start=START, electric_miles=3, gas_miles=2, **plan)))


def _parse(text: str, tz: str | None = None) -> tuple[list[dict[str, str]], TracklogStats]:
    stats = TracklogStats()
    return list(tracklog_parse(text.encode(), tz=tz, stats=stats)), stats


def test_imperial_and_metric_logs_parse_to_the_readings_the_phone_uploaded() -> None:
    drive = _drive()
    uploaded = [parse_reading({**r, "session": "s"}) for r in drive]
    for units in ("imperial", "metric"):
        rows, stats = _parse(tracklog_csv(drive, LogStyle(units=units)))
        assert stats.rows == len(drive) and stats.header_lines == 1 and stats.zone == "PST"
        parsed = [parse_reading(r) for r in rows]
        assert [p.recorded_at for p in parsed] == [u.recorded_at for u in uploaded]
        for mine, theirs in zip(parsed, uploaded, strict=True):
            assert mine.values.keys() == theirs.values.keys()
            for name, value in theirs.values.items():
                assert mine.values[name] == pytest.approx(value, rel=1e-7, abs=1e-6), (units, name)


def test_the_session_is_the_first_rows_epoch_ms_and_device_time_is_read_in_the_gps_zone() -> None:
    rows, stats = _parse(tracklog_csv(_drive()[:3]))
    assert stats.session == str(int(START.timestamp() * 1000)) == rows[0]["session"] == rows[0]["time"]
    assert {r["session"] for r in rows} == {stats.session}
    summer, _ = _parse(tracklog_csv(_drive()[:1], LogStyle(zone="PDT", offset_hours=-7)))
    assert summer[0]["time"] == rows[0]["time"]  # the same instant written in another zone


def test_a_zone_comes_from_tz_when_gps_time_names_none_and_its_absence_is_an_error() -> None:
    text = "GPS Time,Device Time,Engine RPM(rpm)\n-,03-Jan-2026 15:55:17.889,1450\n"
    rows, stats = _parse(text, tz="America/Los_Angeles")
    assert rows[0]["time"] == str(int(START.timestamp() * 1000)) and stats.zone == "America/Los_Angeles"
    with pytest.raises(TracklogError) as no_zone:
        _parse(text)
    assert (no_zone.value.line, no_zone.value.error.code) == (2, "E305")
    assert "no time zone" in no_zone.value.message
    with pytest.raises(TracklogError, match="unknown time zone 'Mars/Olympus'"):
        _parse(text, tz="Mars/Olympus")


def test_dashes_and_infinities_go_through_as_written_and_the_parser_refuses_them() -> None:
    rows, _ = _parse(tracklog_csv(_drive(), LogStyle(missing_every=2, infinite_every=3)))
    written = [v for r in rows for v in r.values()]
    assert written.count("-") >= len(rows) // 2 - 1 and written.count("∞") >= len(rows) // 3 - 1
    parsed = [parse_reading(r) for r in rows]
    assert sum(len(p.rejected) for p in parsed) == written.count("-") + written.count("∞")
    assert {reason for p in parsed for reason in p.rejected.values()} == {"not_a_number"}


def test_a_repeated_header_with_other_columns_restarts_the_mapping_and_unknown_columns_are_counted() -> None:
    drive = _drive()
    rows, stats = _parse(tracklog_csv(drive, LogStyle(restart_at=10, unknown_columns=3)))
    assert (stats.rows, stats.header_lines, len(rows)) == (len(drive), 2, len(drive))
    assert list(stats.unknown_columns) == ["*Unknown PID 0(psi)", "*Unknown PID 1(psi)", "*Unknown PID 2(psi)"]
    # Across the restart the columns are written in reverse order: every reading keeps its values.
    assert parse_reading(rows[11]).values["engine_rpm"] == float(drive[11]["kc"])
    assert parse_reading(rows[11]).values["soc_pct"] == pytest.approx(float(drive[11]["k22005b"]))


def test_a_column_in_an_unknown_unit_is_not_imported() -> None:
    text = ("GPS Time,Device Time,Speed (OBD)(furlong/fortnight),Speed (GPS)(kph)\n"
            "Sat Jan 03 15:55:17 PST 2026,03-Jan-2026 15:55:17.889,100,64.5\n")
    rows, stats = _parse(text)
    assert list(stats.unknown_columns) == ["Speed (OBD)(furlong/fortnight)"]
    assert "kd" not in rows[0] and rows[0]["kff1001"] == "64.5"


def test_bad_rows_are_counted_by_reason_and_skipped() -> None:
    text = ("GPS Time,Device Time,Engine RPM(rpm)\n"
            "Sat Jan 03 15:55:17 PST 2026,03-Jan-2026 15:55:17.889,1450\n"
            "Sat Jan 03 15:55:18 PST 2026,yesterday,1450\n"
            "Sat Jan 03 15:55:19 PST 2026,03-Jan-2026 15:55:19.000,1450,1,2\n"
            "Sat Jan 03 15:55:20 PST 2026,31-Feb-2026 15:55:20.000,1450\n")
    rows, stats = _parse(text)
    assert len(rows) == 1 and stats.rows == 4
    assert stats.rejected == {"bad_device_time": 2, "extra_cells": 1}


@pytest.mark.parametrize(("data", "line", "reason"), [
    (b"", 1, "empty file"),
    (b"# VoltTracker\n\nSome notes\n", 1, "no `Device Time` column"),
    (b"GPS Time,Device Time\nx,03-Jan-2026 15:55:17.889\n\xff\xfe\n", 3, "not UTF-8"),
])
def test_a_file_that_is_not_a_track_log_is_refused_naming_the_line(data: bytes, line: int, reason: str) -> None:
    with pytest.raises(TracklogError) as refused:
        list(tracklog_parse(data))
    assert refused.value.line == line and reason in refused.value.reason
    assert str(refused.value).startswith(f"line {line}: ")
