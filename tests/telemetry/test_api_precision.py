"""The JSON API answers rounded figures: no number has more decimals than docs/units.md states."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from telemetry.drive_sim import ChargePlan, DrivePlan, charge_readings, drive_readings
from telemetry.models import Trip
from telemetry.stats import vehicle_stats_refresh
from telemetry.trips import trip_finalize
from telemetry.units import FIGURES, figure_round

pytestmark = pytest.mark.django_db
DOC = Path(__file__).resolve().parents[2] / "docs" / "units.md"
START = datetime(2026, 5, 5, 21, 0, tzinfo=UTC)


def documented() -> dict[str, tuple[str, int]]:
    """field -> (unit, decimals) from the table of the "Figures as shown" section."""
    section = DOC.read_text().split("## Figures as shown", 1)[1]
    table: dict[str, tuple[str, int]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[2].isdigit():
            for name in re.findall(r"`(\w+)`", cells[0]):
                table[name] = (cells[1], int(cells[2]))
    return table


def test_the_documented_table_is_the_code_s() -> None:
    assert documented() == {name: (f.unit, f.decimals) for name, f in FIGURES.items()}


def decimals(number: float) -> int:
    """Decimals of the number as JSON writes it (the shortest repr)."""
    exponent = Decimal(repr(number)).normalize().as_tuple().exponent
    return max(-int(exponent), 0)


def numbers(value: Any, key: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in numbers(v, k)]
    if isinstance(value, list):
        return [pair for v in value for pair in numbers(v, key)]
    return [(key, value)] if isinstance(value, (int, float)) and not isinstance(value, bool) else []


def test_no_answer_carries_more_decimals_than_documented(client, volt, upload) -> None:
    for params in charge_readings(ChargePlan(session="p-1", start=START, start_soc=21.3, end_soc=88.7, fuel_pct=25)):
        upload(volt.token, params)
    plan = DrivePlan(session="p-2", start=START + timedelta(hours=10), electric_miles=7.77, gas_miles=6.13,
                     mph=37.3, kwh_per_mile=0.2913, start_odometer_miles=12_050, mpg=38.7, start_fuel_pct=90, standing_readings=3, ambient_c=7.3)
    for params in drive_readings(plan):
        upload(volt.token, params)
    trip = Trip.objects.get(session="p-2")
    trip_finalize(trip_id=trip.pk)
    vehicle_stats_refresh(vehicle_id=volt.vehicle.pk)
    auth = {"Authorization": f"Bearer {volt.token}"}
    v = volt.vehicle.pk
    answers = {path: client.get(path, headers=auth).json() for path in (
        f"/api/vehicles/{v}/trips/", f"/api/trips/{trip.pk}/", f"/api/vehicles/{v}/stats/",
        f"/api/vehicles/{v}/charging/", f"/api/vehicles/{v}/refuels/")}
    table = documented()
    found = [(path, key, number) for path, body in answers.items() for key, number in numbers(body)]
    floats = [(path, key, n) for path, key, n in found if isinstance(n, float)]
    assert len(floats) >= 35, json.dumps(answers)[:2000]  # the answers are full of figures
    undocumented = {(path, key) for path, key, n in floats if key not in table}
    assert undocumented == set()
    too_fine = [(path, key, n) for path, key, n in floats if decimals(n) > table[key][1]]
    assert too_fine == []
    # Rounded, not truncated, and the figures are those of the drive.
    body = answers[f"/api/trips/{trip.pk}/"]
    assert body["distance_miles"] == pytest.approx(13.9, abs=0.15) and decimals(body["kwh_per_mile"]) <= 3
    assert figure_round("gas_miles", 30.756999999999998) == 30.8
    assert [n for _, key, n in floats if key == "kwh_added"] and all(
        isinstance(n, int) for _, key, n in found if key in ("id", "total_trips", "charging_sessions"))
