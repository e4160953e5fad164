"""Redis cut under a real gunicorn: uploads still OK!, the policy still serves, lost enqueues caught up by beat.

The server reaches Redis (cache and broker) only through a loopback proxy the
test controls. The catch-up runs through the real broker and a real worker.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import pytest
from django.conf import settings
from django.utils import timezone

from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.models import Reading, Trip, VehicleStats
from telemetry.tasks import trips_close_stale, vehicle_stats_refresh_all_task
from telemetry.vehicles import NewToken, vehicle_create
from tests.live import ROOT, LiveProcess, LiveWeb, free_port, live_env, live_web_running
from tests.reliability.tcp_proxy import TcpProxy
from tests.reliability.test_database_faults import keep_all_policy  # noqa: F401 - a fixture

START = datetime(2026, 7, 7, 8, 0, tzinfo=UTC)
# The upload that fails to queue a task may wait for one broker timeout at most (0.5 s), never seconds.
REFUSED_BOUND_S = 0.5
HUNG_BOUND_S = 1.5  # one cache timeout (policy check) + one broker timeout (0.5 s each), not one per task


@pytest.fixture
def redis_proxy() -> Iterator[TcpProxy]:
    target = urlsplit(settings.REDIS_URL)
    proxy = TcpProxy(target.port or 6379, target.hostname or "127.0.0.1")
    yield proxy
    proxy.close()


@pytest.fixture
def web_via_redis_proxy(keep_all_policy: None, redis_proxy: TcpProxy, tmp_path: Path) -> Iterator[LiveWeb]:
    db = urlsplit(settings.REDIS_URL).path
    env = live_env(tmp_path, REDIS_URL=f"redis://127.0.0.1:{redis_proxy.port}{db}")
    # One process: every upload sees the same policy snapshot history.
    with live_web_running(tmp_path, env, workers=1) as web:
        yield web


class Uploader:
    def __init__(self, web: LiveWeb, car: NewToken) -> None:
        self.web, self.car = web, car
        self.http = httpx.Client(base_url=web.base_url, timeout=15)

    def send(self, params: dict[str, str]) -> tuple[str, float]:
        """(request id, wall seconds) of an upload that must answer OK!."""
        request_id = str(uuid.uuid4())
        began = time.perf_counter()
        response = self.http.post(f"/api/torque/upload/{self.car.token}", data=params,
                                  headers={"X-Request-ID": request_id})
        took = time.perf_counter() - began
        assert response.text == "OK!", response.text
        return request_id, took


def drive(session: str, start: datetime, count: int) -> list[dict[str, str]]:
    # Each drive sets off where the car stood: 10 mi on the odometer per hour after START (drives are 2 mi).
    odometer = 12_000 + 10 * (start - START) / timedelta(hours=1)
    return list(drive_readings(DrivePlan(session=session, start=start, electric_miles=2, gas_miles=0,
                                         start_odometer_miles=odometer)))[:count]


@pytest.mark.django_db(transaction=True)
@pytest.mark.live_web
@pytest.mark.worker
def test_redis_cut_keeps_uploads_ok_records_lost_enqueues_and_beat_catches_them_up(
        redis_proxy: TcpProxy, web_via_redis_proxy: LiveWeb, live_worker: LiveProcess) -> None:
    web = web_via_redis_proxy
    car = vehicle_create(name="Redis Cut")
    up = Uploader(web, car)
    before = [up.send(p) for p in drive("r-a", START, 6)]
    time.sleep(0.3)
    policy_before = web.events_by_request_id()[before[-1][0]]["sampling"]

    redis_proxy.cut("refuse")  # Redis down: connections reset, the port refuses
    refused = [up.send(p) for p in drive("r-b", START + timedelta(hours=3), 4)]  # the first closes r-a
    redis_proxy.cut("blackhole")  # Redis hung: connections accepted, never answered
    time.sleep(2.1)  # the next upload re-checks the policy against the hung cache
    hung = [up.send(p) for p in drive("r-c", START + timedelta(hours=6), 2)]  # the first closes r-b
    assert web.proc.poll() is None

    time.sleep(0.5)
    events = web.events_by_request_id()
    # The enqueue that could not happen is on the event, with its code; the upload still answered OK!.
    # Each trip's finalization is queued once (telemetry/trips.py, trip_previous_open_claim): r-c's first
    # upload tries r-b only; r-a's lost finalize is the stale sweep's to catch up (below).
    for (request_id, _), lost in ((refused[0], 1), (hung[0], 1)):
        event = events[request_id]
        assert event["http"]["status_code"] == 200 and event["success"] is True
        assert event["tasks"]["enqueue_failed"] == ["telemetry.tasks.trip_finalize"] * lost
        assert "E404" in {w["code"] for w in event["warnings"]}
    # ... and it failed fast: no upload waited seconds for the broker.
    assert refused[0][1] < REFUSED_BOUND_S, refused
    assert hung[0][1] < HUNG_BOUND_S, hung
    # The policy kept serving the same version, from its last snapshot or the database, and said so.
    for request_id, _ in refused + hung:
        sampling = events[request_id]["sampling"]
        assert sampling["policy_version"] == policy_before["policy_version"]
        assert sampling["policy_source"] in {"cache", "last_known", "database"}
    degraded = [events[r]["sampling"]["policy_source"] for r, _ in refused + hung]
    assert {"last_known", "database"} & set(degraded), degraded
    assert any("E501" in {w["code"] for w in events[r].get("warnings", [])} for r, _ in refused + hung)
    assert Reading.objects.count() == 12

    # Nothing was finalized: the two trips wait, open. The beat's stale-trip sweep catches them up
    # once they are past the stale window (moved back here instead of waiting TRIP_STALE_SECONDS).
    assert list(Trip.objects.order_by("session").values_list("session", "is_closed")) == [
        ("r-a", False), ("r-b", False), ("r-c", False)]
    Trip.objects.filter(session__in=["r-a", "r-b"]).update(
        last_received_at=timezone.now() - timedelta(seconds=settings.TRIP_STALE_SECONDS + 60))
    trips_close_stale.apply_async()  # what celery beat sends every STALE_CHECK_INTERVAL_SECONDS
    live_worker.wait_until(lambda: Trip.objects.filter(is_closed=True).count() == 2, "the stale-trip sweep")
    finalized = {t.session: t for t in Trip.objects.all()}
    assert finalized["r-a"].distance_miles == pytest.approx(5 * 10 / 3600 * 40, abs=0.05)  # 6 readings 10 s apart at 40 mph
    assert finalized["r-c"].is_closed is False


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_stats_refresh_lost_to_a_dead_broker_is_caught_up_by_the_beat_refresh(
        keep_all_policy: None, upload: Any, tmp_path: Path, live_worker: LiveProcess) -> None:
    car = vehicle_create(name="Stats Catch-up")
    for params in drive("s-a", START, 6):
        assert upload(car.token, params).content == b"OK!"
    trip = Trip.objects.get()
    Trip.objects.filter(pk=trip.pk).update(
        last_received_at=timezone.now() - timedelta(seconds=settings.TRIP_STALE_SECONDS + 60))

    # The beat sweep runs in a process whose broker is gone: the trip is finalized, the stats refresh
    # it queues is lost (E404 on the task's event).
    env = live_env(tmp_path, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from telemetry.tasks import trips_close_stale; "
                               "print(trips_close_stale.apply().get())"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "1", result.stdout + result.stderr
    task_events = [orjson.loads(line) for line in (tmp_path / "events.jsonl").read_bytes().splitlines()]
    finalize = [e for e in task_events if e["operation"] == "trips_close_stale"]
    assert finalize and finalize[0]["tasks"]["enqueue_failed"] == ["telemetry.tasks.vehicle_stats_refresh"]
    assert "E404" in {w["code"] for w in finalize[0]["warnings"]}
    trip.refresh_from_db()
    assert trip.is_closed is True
    assert not VehicleStats.objects.filter(vehicle=car.vehicle, total_trips__gt=0).exists()

    vehicle_stats_refresh_all_task.apply_async()  # what celery beat sends every STATS_REFRESH_INTERVAL_SECONDS
    live_worker.wait_until(lambda: VehicleStats.objects.filter(vehicle=car.vehicle, total_trips=1).exists(),
                           "the beat stats refresh")
    stats = VehicleStats.objects.get(vehicle=car.vehicle)
    assert stats.total_miles == pytest.approx(trip.distance_miles)
