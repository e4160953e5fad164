"""Many uploads racing on a new session or a charging session, against the real database (threads, real
commits)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial

import pytest
from django.db import connection

from telemetry.drive_sim import ChargePlan, DrivePlan, charge_readings, drive_readings
from telemetry.models import ChargingSession, Reading, Trip
from telemetry.trips import trip_finalize
from tests.conftest import FormClient

START = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)


def _post_in_thread(token: str, params: dict[str, str]) -> tuple[int, bytes]:
    try:
        response = FormClient().post(f"/api/torque/upload/{token}", params)
        return response.status_code, response.content
    finally:
        connection.close()  # each thread has its own connection


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_uploads_of_a_new_session_make_one_trip(volt) -> None:
    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL (set DATABASE_URL), as in CI")
    readings = list(drive_readings(DrivePlan(session="race-1", start=START)))[:20]

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(partial(_post_in_thread, volt.token), readings + readings))  # every reading twice: retries race too

    assert results == [(200, b"OK!")] * 40
    trip = Trip.objects.get()
    assert trip.reading_count == 20
    assert Reading.objects.filter(trip=trip).count() == 20


@pytest.mark.django_db(transaction=True)
def test_uploads_racing_on_one_charging_session_count_no_interval_twice(volt, wide_events) -> None:
    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL (set DATABASE_URL), as in CI")
    plan = ChargePlan(session="race-charge", start=START, start_soc=60, end_soc=70, step_seconds=30)
    first, *rest = list(charge_readings(plan))
    assert FormClient().post(f"/api/torque/upload/{volt.token}", first).content == b"OK!"  # opens the session

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(partial(_post_in_thread, volt.token), rest))

    assert results == [(200, b"OK!")] * len(rest)
    session = ChargingSession.objects.get()
    # Each upload waited for the session's row lock: those that came in order added their interval once,
    # the others (older than the session's newest reading) added nothing.
    assert 1 <= session.reading_count <= len(rest) + 1
    assert session.kwh_integrated <= plan.expected_kwh * 1.01
    states = {e["charging"].get("state") for e in wide_events.events if "charging" in e}
    assert states <= {"opened", "charging", "paused"}
    trip_finalize(trip_id=Trip.objects.get().pk)  # the replay over every reading in time order
    session.refresh_from_db()
    assert (ChargingSession.objects.count(), session.reading_count) == (1, len(rest) + 1)
    assert session.kwh_added == pytest.approx(plan.expected_kwh, rel=0.02)
