"""Many uploads racing on a new session or a charging session, against the real database (threads, real
commits)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from threading import Thread

import pytest
from django.db import connection, connections

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


@pytest.mark.parametrize(("how", "reason"), [("drives off", "drove_off"), ("charges again 45 min later", "stale")])
@pytest.mark.django_db(transaction=True)
def test_closing_a_charge_while_its_trip_is_finalized_does_not_deadlock(volt, how: str, reason: str) -> None:
    """Finalization locks its trip, then the trip's charging sessions; an upload that closes the session
    (driving off, or charging again after the charging gap) unlinks the trips carrying it. Both must take
    trips before sessions, or the two wait on each other until PostgreSQL aborts one (the upload: a 503)."""
    client = FormClient()
    charge = list(charge_readings(ChargePlan(session="c-lock", start=START, start_soc=60, end_soc=64)))
    for params in charge:
        assert client.post(f"/api/torque/upload/{volt.token}", params).content == b"OK!"
    charging_trip = Trip.objects.get(session="c-lock")
    session = ChargingSession.objects.get(is_complete=False)
    end_ms = int(charge[-1]["time"])
    # The drive's session opens standing (the charge pauses, its link passes to the new trip) ...
    standing = {**charge[-1], "session": "d-lock", "time": str(end_ms + 30_000), "k220057": "0", "k22006e": "0",
                "k22000b": "0.3"}
    assert client.post(f"/api/torque/upload/{volt.token}", standing).content == b"OK!"
    drive = Trip.objects.get(session="d-lock")
    assert (drive.charging_session_id, Trip.objects.get(pk=charging_trip.pk).charging_session_id) == (session.pk,) * 2
    closing = ({**standing, "time": str(end_ms + 60_000), "kd": "30", "kff1001": "30"} if reason == "drove_off"
               else {**charge[-1], "session": "d-lock", "time": str(end_ms + 45 * 60_000)})

    answers: list[tuple[int, bytes]] = []

    def close() -> None:  # ... and closes the charge while the worker finalizes the charging trip
        try:
            response = FormClient().post(f"/api/torque/upload/{volt.token}", closing)
            answers.append((response.status_code, response.content))
        finally:
            connection.close()

    worker = connections.create_connection("default")  # the finalizing worker's own connection
    try:
        with worker.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(f'SELECT id FROM "{Trip._meta.db_table}" WHERE id = %s FOR UPDATE', [charging_trip.pk])
            upload = Thread(target=close)
            upload.start()
            deadline = time.monotonic() + 10
            while not _waiting_on_a_lock():  # the upload is blocked behind the worker's trip lock
                assert time.monotonic() < deadline, "the upload never waited for the worker's trip lock"
                time.sleep(0.05)
            # finalization's next step: the trip's sessions. With the upload holding the session, this deadlocks.
            cursor.execute(f'SELECT id FROM "{ChargingSession._meta.db_table}" WHERE id = %s FOR UPDATE',
                           [session.pk])
            cursor.execute("COMMIT")
        upload.join(timeout=20)
    finally:
        worker.close()
    assert answers == [(200, b"OK!")]
    closed = ChargingSession.objects.get(pk=session.pk)
    assert (closed.is_complete, closed.closed_reason) == (True, reason)
    assert list(Trip.objects.filter(charging_session=session)) == []


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0] > 0


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


@pytest.mark.django_db(transaction=True)
def test_an_upload_aborted_by_a_deadlock_runs_again_and_stores_its_reading(volt, wide_events) -> None:
    """The replay can still take a trip after a session (docs/charging.md, "Concurrency"). When PostgreSQL
    picks the upload as a deadlock's victim, the upload runs its transaction again: OK!, not a 503."""
    client = FormClient()
    charge = list(charge_readings(ChargePlan(session="c-dead", start=START, start_soc=60, end_soc=64)))
    for params in charge[:-1]:
        assert client.post(f"/api/torque/upload/{volt.token}", params).content == b"OK!"
    trip, session = Trip.objects.get(), ChargingSession.objects.get()
    answers: list[tuple[int, bytes]] = []

    def advance() -> None:
        try:
            response = FormClient().post(f"/api/torque/upload/{volt.token}", charge[-1])
            answers.append((response.status_code, response.content))
        finally:
            connection.close()

    worker = connections.create_connection("default")  # a worker taking the session, then the trip
    try:
        with worker.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(f'SELECT id FROM "{ChargingSession._meta.db_table}" WHERE id = %s FOR UPDATE',
                           [session.pk])
            upload = Thread(target=advance)  # locks its trip, then waits for the session
            upload.start()
            deadline = time.monotonic() + 10
            while not _waiting_on_a_lock():
                assert time.monotonic() < deadline, "the upload never waited for the session's lock"
                time.sleep(0.05)
            # The other order: PostgreSQL aborts the side that has waited longest when its check runs (the upload).
            cursor.execute(f'SELECT id FROM "{Trip._meta.db_table}" WHERE id = %s FOR UPDATE', [trip.pk])
            cursor.execute("COMMIT")
        upload.join(timeout=30)
    finally:
        worker.close()
    assert answers == [(200, b"OK!")]
    stored = [e for e in wide_events.events if e.get("telemetry", {}).get("outcome") == "stored"][-1]
    assert {"code": "E204", "message": "A deadlock aborted the reading's transaction; it ran again."} in stored["warnings"]
    assert ChargingSession.objects.get().reading_count == len(charge)
    assert Trip.objects.get().reading_count == len(charge)
