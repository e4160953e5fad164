"""Trip finalization is queued a bounded number of times (issue 16, item 5): N new sessions, O(N) tasks."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import redis
from django.conf import settings

from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.models import Trip
from volttracker.celery import app

START = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def _queued_tasks() -> Counter[str]:
    """Task names waiting in the broker's default queue (no worker runs in this test)."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    return Counter(json.loads(m)["headers"]["task"] for m in client.lrange("celery", 0, -1))


@pytest.fixture
def empty_queue():
    app.control.purge()
    yield
    app.control.purge()


@pytest.mark.django_db(transaction=True)  # the enqueue waits for the commit
def test_n_new_sessions_queue_each_earlier_trip_once(volt, upload, empty_queue) -> None:
    sessions = 200
    for i in range(sessions):
        reading = next(drive_readings(DrivePlan(session=f"s-{i}", start=START + timedelta(minutes=5 * i))))
        assert upload(volt.token, reading).content == b"OK!"
    queued = _queued_tasks()["telemetry.tasks.trip_finalize"]
    # Each new session ends the trips before it; each of those is queued once, however long the queue.
    assert queued == sessions - 1
    assert Trip.objects.filter(vehicle=volt.vehicle, is_closed=False).count() == sessions


@pytest.mark.django_db(transaction=True)
def test_a_late_reading_lets_its_trip_be_queued_once_more(volt, upload, empty_queue) -> None:
    first = list(drive_readings(DrivePlan(session="a", start=START)))[:3]
    for reading in first[:2]:
        upload(volt.token, reading)
    upload(volt.token, next(drive_readings(DrivePlan(session="b", start=START + timedelta(hours=1)))))
    upload(volt.token, first[2])  # late: trip "a" was queued, not yet finalized
    upload(volt.token, next(drive_readings(DrivePlan(session="c", start=START + timedelta(hours=2)))))
    assert _queued_tasks()["telemetry.tasks.trip_finalize"] == 3  # a, then a again and b
