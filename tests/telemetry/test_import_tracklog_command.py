"""`manage.py import_tracklog`: output, progress, exit status; and two of the real logs in ../shared/realdata/."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.models import Reading, Trip
from telemetry.tracklog_sim import tracklog_csv
from telemetry.vehicles import NewToken
from tests.live import ROOT, database_url_for_current_connection

# The `shared` directory beside the checkout (here and on CI), not a path of this machine.
REALDATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "realdata"


def _log(tmp_path: Path, name: str = "trackLog-sim.csv") -> Path:
    path = tmp_path / name
    plan = DrivePlan(session="s", start=datetime(2026, 1, 3, 16, tzinfo=UTC), electric_miles=2, gas_miles=0)
    path.write_text(tracklog_csv(drive_readings(plan)), encoding="utf-8")
    return path


@pytest.mark.django_db
def test_the_command_imports_every_file_and_reports_each(volt: NewToken, tmp_path: Path) -> None:
    out, err = StringIO(), StringIO()
    log = _log(tmp_path)
    call_command("import_tracklog", str(log), str(log), "--vehicle", str(volt.vehicle.pk), "--no-progress",
                 stdout=out, stderr=err)
    first, second = out.getvalue().splitlines()
    rows = Reading.objects.filter(vehicle=volt.vehicle).count()
    assert first.startswith(f"trackLog-sim.csv: {rows} rows, {rows} stored, 0 already stored, rows skipped: none")
    assert f"{rows} rows, 0 stored, {rows} already stored" in second and "(existing)" in second
    assert err.getvalue() == "" and Trip.objects.get(vehicle=volt.vehicle).is_closed


@pytest.mark.django_db
def test_a_bad_file_fails_the_command_after_the_others_are_imported(volt: NewToken, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list\nmilk\n")
    err = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("import_tracklog", str(notes), str(_log(tmp_path)), str(tmp_path / "missing.csv"),
                     "--vehicle", str(volt.vehicle.pk), "--no-progress", stdout=StringIO(), stderr=err)
    assert str(failed.value).splitlines() == [
        "2 of 3 files not imported:",
        f"{notes}: line 1: not a Torque track-log header: no `Device Time` column",
        f"{tmp_path / 'missing.csv'}: cannot read it (No such file or directory)",
    ]
    assert "(E305); nothing of it was stored" in err.getvalue()
    assert Trip.objects.filter(vehicle=volt.vehicle).count() == 1  # the good file between them


@pytest.mark.django_db
def test_an_unknown_vehicle_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No vehicle 424242"):
        call_command("import_tracklog", str(_log(tmp_path)), "--vehicle", "424242", "--no-progress")


@pytest.mark.django_db(transaction=True)
def test_the_command_exits_non_zero_and_draws_its_bar_on_stderr(volt: NewToken, tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": database_url_for_current_connection()}
    command = [sys.executable, "manage.py", "import_tracklog", "--vehicle", str(volt.vehicle.pk)]
    ok = subprocess.run([*command, str(_log(tmp_path))], cwd=ROOT, env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "row/s" in ok.stderr and "stored" in ok.stdout  # tqdm's bar, then the summary
    bad = subprocess.run([*command, "--no-progress", str(tmp_path / "nope.csv")], cwd=ROOT, env=env,
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "row/s" not in bad.stderr and "1 of 1 files not imported" in bad.stderr


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "rows", "headers", "drive"), [
    ("trackLog-2025-Dec-31_09-54-18.csv", 278, 1, True),  # counts from the README's table
    ("trackLog-2025-Dec-30_17-30-52.csv", 1086, 8, False),  # parked, warming up, logging restarted 7 times
])
def test_real_logs_import_with_the_readme_counts(volt: NewToken, name: str, rows: int, headers: int,
                                                 drive: bool) -> None:
    from telemetry.tracklog_import import tracklog_import_path

    result = tracklog_import_path(vehicle=volt.vehicle, path=REALDATA / name)
    assert (result.rows_read, result.header_lines, result.stored, result.rejected) == (rows, headers, rows, {})
    assert result.zone == "PST" and len(result.unknown_columns) == 97
    trip = Trip.objects.get(vehicle=volt.vehicle)
    assert trip.reading_count == rows and trip.is_closed
    assert trip.started_at.isoformat().startswith("2025-12-3")
    assert (trip.distance_miles or 0) > 2 if drive else (trip.distance_miles or 0) < 0.1
