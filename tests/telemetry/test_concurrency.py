"""Many uploads racing on a new session, against the real database (threads, real commits)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from django.db import connection

from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.models import Reading, Trip
from tests.conftest import FormClient

START = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_uploads_of_a_new_session_make_one_trip(volt) -> None:
    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL (set DATABASE_URL), as in CI")
    readings = list(drive_readings(DrivePlan(session="race-1", start=START)))[:20]

    def post(params: dict[str, str]) -> tuple[int, bytes]:
        try:
            response = FormClient().post(f"/api/torque/upload/{volt.token}", params)
            return response.status_code, response.content
        finally:
            connection.close()  # each thread has its own connection

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(post, readings + readings))  # every reading twice: retries race too

    assert results == [(200, b"OK!")] * 40
    trip = Trip.objects.get()
    assert trip.reading_count == 20
    assert Reading.objects.filter(trip=trip).count() == 20
