"""The upload's cache of vehicles by token: a reset token or a deleted vehicle is refused at once, in
every process; the cached stats are at most CACHE_SECONDS old."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from django.utils import timezone

from telemetry import auth
from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.models import Vehicle, VehicleStats
from telemetry.tokens import token_generate, token_hash
from telemetry.vehicles import vehicle_create, vehicle_token_reset
from logging_policy.synthetic import trace_id_drawing
from tests.factories import Clock
from tests.live import LiveWeb
from tests.telemetry.budget import steady_upload_queries

START = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock()
    monkeypatch.setattr(auth, "clock", fake)
    yield fake
    auth.vehicle_cache_forget()  # entries stamped with the fake clock


@pytest.mark.django_db
def test_a_reset_token_is_refused_at_once_though_its_vehicle_is_cached(volt, upload, clock,
                                                                       django_assert_num_queries) -> None:
    readings = drive_readings(DrivePlan(session="cache", start=START))
    assert upload(volt.token, next(readings)).content == b"OK!"
    assert token_hash(volt.token) in auth._vehicles
    with django_assert_num_queries(steady_upload_queries()):
        # 1 the session's trip and the odometers, by the cached vehicle's id and the token's hash (no vehicle or
        # stats columns), 2 INSERT reading ON CONFLICT DO NOTHING and UPDATE trip counters in one statement
        assert upload(volt.token, next(readings)).content == b"OK!"
    # Reset as another process would do it: nothing tells this process.
    new_token = token_generate()
    Vehicle.objects.filter(pk=volt.vehicle.pk).update(token_hash=token_hash(new_token))
    refused = upload(volt.token, next(readings))
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "E400"
    assert token_hash(volt.token) not in auth._vehicles
    assert upload(new_token, next(readings)).content == b"OK!"


@pytest.mark.django_db
def test_a_deleted_vehicle_is_refused_at_once_though_it_is_cached(volt, upload, clock) -> None:
    readings = drive_readings(DrivePlan(session="gone", start=START))
    assert upload(volt.token, next(readings)).content == b"OK!"
    Vehicle.objects.filter(pk=volt.vehicle.pk).delete()
    assert upload(volt.token, next(readings)).status_code == 401


@pytest.mark.django_db
def test_cached_stats_are_read_again_after_cache_seconds(volt, upload, clock, wide_events) -> None:
    VehicleStats.objects.create(vehicle=volt.vehicle, total_trips=19, total_miles=400.0,
                                first_trip_at=timezone.now() - timedelta(days=45), refreshed_at=timezone.now())
    readings = drive_readings(DrivePlan(session="stale", start=START))
    assert upload(volt.token, next(readings)).content == b"OK!"
    VehicleStats.objects.filter(vehicle=volt.vehicle).update(total_trips=150)
    clock.now += auth.CACHE_SECONDS - 1
    assert upload(volt.token, next(readings)).content == b"OK!"
    clock.now += 1
    assert upload(volt.token, next(readings)).content == b"OK!"
    tiers = [(e["vehicle"]["total_trips"], e["vehicle"]["usage_tier"])
             for e in wide_events.events if e["operation"] == "telemetry_upload"]
    assert tiers == [(19, "light"), (19, "light"), (150, "heavy")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.live_web
def test_gunicorn_workers_refuse_a_reset_token_on_the_next_upload(live_web: LiveWeb) -> None:
    """Two real worker processes, each having cached the vehicle: the old token gets 401 from the first
    upload after the reset (the bound is zero seconds), the new one is stored."""
    car = vehicle_create(name="Cached in two workers")
    readings = drive_readings(DrivePlan(session="live-cache", start=START))
    # Uploads in traces that every rate keeps, until both workers have stored (and cached) the vehicle.
    stored: dict[str, str] = {}  # request id -> the worker's instance id
    for i in range(40):
        stored[live_web.upload(car.token, next(readings), trace_id=trace_id_drawing(below=0.01, skip=i))] = ""
        events = live_web.events_by_request_id()
        if len({events[r]["service"]["instance_id"] for r in stored if r in events}) == 2:
            break
    else:
        pytest.fail("one gunicorn worker served 40 uploads in a row")
    workers = {events[r]["service"]["instance_id"] for r in stored if r in events}
    new = vehicle_token_reset(vehicle=Vehicle.objects.get(pk=car.vehicle.pk))
    refused: dict[str, int] = {}
    with httpx.Client(base_url=live_web.base_url, timeout=10) as http:
        for _ in range(20):
            request_id = str(uuid.uuid4())
            answer = http.post(f"/api/torque/upload/{car.token}", data=next(readings), headers={"X-Request-ID": request_id})
            refused[request_id] = answer.status_code
        assert http.post(f"/api/torque/upload/{new.token}", data=next(readings)).text == "OK!"
    assert set(refused.values()) == {401}
    # Both workers answered some of them (a client error's first events are kept whole).
    live_web.wait_until(lambda: set(refused) <= set(live_web.events_by_request_id()), "the 401s' events")
    events = live_web.events_by_request_id()
    assert {events[r]["service"]["instance_id"] for r in refused} == workers
