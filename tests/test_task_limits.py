"""Every task has a soft and a hard time limit, and a sweep stops at its soft limit instead of going on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone

from logging_policy import tasks as policy_tasks  # noqa: F401 - registers policy_sync
from telemetry import tasks
from telemetry.models import Trip
from volttracker.celery import app

pytestmark = pytest.mark.django_db


def test_every_task_has_a_soft_limit_below_its_hard_limit() -> None:
    ours = {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}
    assert {"telemetry.tasks.trip_finalize", "telemetry.tasks.trips_close_stale",
            "logging_policy.tasks.policy_sync"} <= set(ours)
    for name, task in ours.items():
        soft = task.soft_time_limit or app.conf.task_soft_time_limit
        hard = task.time_limit or app.conf.task_time_limit
        assert soft and hard and soft < hard, name
    assert tasks.trips_close_stale.soft_time_limit == 240


def test_the_stale_sweep_stops_at_its_soft_limit(volt, monkeypatch: pytest.MonkeyPatch) -> None:
    old = timezone.now() - timedelta(hours=1)
    for n in range(3):
        Trip.objects.create(vehicle=volt.vehicle, session=f"s{n}", trip_key=f"s{n}", started_at=old,
                            last_reading_at=old, last_received_at=old)
    calls: list[int] = []

    def out_of_time(*, trip_id: int) -> None:
        calls.append(trip_id)
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(tasks, "trip_finalize", out_of_time)
    with pytest.raises(SoftTimeLimitExceeded):
        tasks.trips_close_stale()
    assert len(calls) == 1  # not swallowed like one trip's failure: the sweep ends there
