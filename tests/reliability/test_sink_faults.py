"""The wide-event sink on a full disk (/dev/full) in a real server: requests are not affected."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.models import Reading
from telemetry.vehicles import vehicle_create
from tests.live import LiveWeb, live_env, live_web_running

UPLOADS = 20


@pytest.fixture
def web_on_a_full_disk(tmp_path: Path) -> Iterator[LiveWeb]:
    if not Path("/dev/full").exists():
        pytest.fail("this test simulates a full disk with Linux's /dev/full")
    with live_web_running(tmp_path, live_env(tmp_path, WIDE_EVENTS_PATH="/dev/full"), workers=1) as web:
        yield web


@pytest.mark.django_db(transaction=True)
@pytest.mark.live_web
def test_a_full_disk_under_the_event_sink_changes_no_answer_and_is_reported_once(
        web_on_a_full_disk: LiveWeb) -> None:
    web = web_on_a_full_disk
    car = vehicle_create(name="Full Disk")
    readings = drive_readings(DrivePlan(session="full-1", start=datetime(2026, 8, 8, tzinfo=UTC)))
    with httpx.Client(base_url=web.base_url, timeout=10) as http:
        answers = [http.post(f"/api/torque/upload/{car.token}", data=next(readings)).text for _ in range(UPLOADS)]
        trips = http.get(f"/api/vehicles/{car.vehicle.pk}/trips/", headers={"Authorization": f"Bearer {car.token}"})
        unknown = http.post("/api/torque/upload/not-a-real-token-at-all", data={"time": "1"})
        health = http.get("/healthz")

    assert answers == ["OK!"] * UPLOADS
    assert Reading.objects.filter(vehicle=car.vehicle).count() == UPLOADS
    assert trips.status_code == 200
    assert len(trips.json()["trips"]) == 1
    assert unknown.status_code == 401 and unknown.json()["error"]["code"] == "E400"
    assert health.status_code == 200
    assert web.proc.poll() is None
    # Every event was lost, and the loss is said once on the console, not as a traceback per request.
    log = web.log()
    assert log.count("E502 event_sink_failed: 1 wide events lost so far") == 1, log[-2000:]
    assert "Traceback" not in log
