"""Trip finalization is queued a bounded number of times (issue 16, item 5): N new sessions, O(N) tasks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from telemetry.drive_sim import DrivePlan, drive_readings
from tests.conftest import EventCapture

START = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
FINALIZE = "telemetry.tasks.trip_finalize"


def _queued(events: EventCapture) -> int:
    """trip_finalize tasks handed to the broker, as the upload events record them (a worker elsewhere in
    the suite may already be draining the queue, so the broker's list is not a count)."""
    return sum(e.get("tasks", {}).get("queued", []).count(FINALIZE) for e in events.events
               if e["operation"] == "telemetry_upload")


@pytest.mark.django_db(transaction=True)  # the enqueue waits for the commit
def test_n_new_sessions_queue_each_earlier_trip_once(volt, upload, wide_events) -> None:
    sessions = 200
    for i in range(sessions):
        reading = next(drive_readings(DrivePlan(session=f"s-{i}", start=START + timedelta(minutes=5 * i))))
        assert upload(volt.token, reading).content == b"OK!"
    queued = _queued(wide_events)
    # Each new session ends the trips before it; each of those is queued once, however long the queue.
    assert queued == sessions - 1


@pytest.mark.django_db(transaction=True)
def test_a_late_reading_lets_its_trip_be_queued_once_more(volt, upload, wide_events) -> None:
    first = list(drive_readings(DrivePlan(session="a", start=START)))[:3]
    for reading in first[:2]:
        upload(volt.token, reading)
    upload(volt.token, next(drive_readings(DrivePlan(session="b", start=START + timedelta(hours=1)))))
    upload(volt.token, first[2])  # late: trip "a" was queued, not yet finalized
    upload(volt.token, next(drive_readings(DrivePlan(session="c", start=START + timedelta(hours=2)))))
    assert _queued(wide_events) == 3  # a, then a again and b
