"""PostgreSQL cut and restored under a real gunicorn: 503 + E2xx + Retry-After, then back with no manual step.

The server reaches PostgreSQL only through a loopback proxy the test controls
(tests/reliability/tcp_proxy.py), so "the database is down" is a real TCP
failure in the server's own connections, pooled ones included (CONN_MAX_AGE).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from django.db import connection

from logging_policy.changes import policy_active_get_or_create
from logging_policy.models import OperationRule
from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.models import Reading, Trip
from telemetry.vehicles import vehicle_create
from tests.live import LiveWeb, live_env, live_web_running
from tests.reliability.tcp_proxy import TcpProxy

READINGS_PER_CAR = 40
CUT_SECONDS = 2.0


@pytest.fixture
def keep_all_policy(transactional_db: None) -> None:
    """Every event kept, set before the server first reads the policy."""
    policy = policy_active_get_or_create()  # transactional tests before this one flush the seed away
    OperationRule.objects.filter(policy=policy).update(sample_rate=1.0)


@pytest.fixture
def db_proxy() -> Iterator[TcpProxy]:
    proxy = TcpProxy(int(connection.settings_dict["PORT"] or 5432), connection.settings_dict["HOST"] or "127.0.0.1")
    yield proxy
    proxy.close()


@pytest.fixture
def web_via_proxy(keep_all_policy: None, db_proxy: TcpProxy, tmp_path: Path) -> Iterator[LiveWeb]:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    env = live_env(tmp_path, DATABASE_URL=f"postgres://{auth}@127.0.0.1:{db_proxy.port}/{s['NAME']}")
    with live_web_running(tmp_path, env) as web:
        yield web


@pytest.mark.django_db(transaction=True)
@pytest.mark.live_web
def test_database_cut_mid_traffic_gives_503s_then_recovers_and_loses_no_acknowledged_reading(
        db_proxy: TcpProxy, web_via_proxy: LiveWeb) -> None:
    cars = [vehicle_create(name=f"Cut {i}") for i in range(2)]
    start = datetime(2026, 5, 5, 7, 0, tzinfo=UTC)
    answers: list[tuple[str, int, str, str | None, str]] = []  # (request id, status, body, Retry-After, car)
    acknowledged: Counter[str] = Counter()
    lock = threading.Lock()
    stop_at = time.monotonic() + 90

    def drive(car_index: int) -> None:
        """Torque's behaviour: send each reading until it is answered OK!, a little later each time."""
        car = cars[car_index]
        plan = DrivePlan(session=f"cut-{car_index}", start=start, step_seconds=5)
        with httpx.Client(base_url=web_via_proxy.base_url, timeout=15) as http:
            for params in list(drive_readings(plan))[:READINGS_PER_CAR]:
                while time.monotonic() < stop_at:
                    request_id = str(uuid.uuid4())
                    response = http.post(f"/api/torque/upload/{car.token}", data=params,
                                         headers={"X-Request-ID": request_id})
                    with lock:
                        answers.append((request_id, response.status_code, response.text,
                                        response.headers.get("Retry-After"), car.token))
                    if response.text == "OK!":
                        with lock:
                            acknowledged[f"{car_index}:{params['time']}"] += 1
                        break
                    time.sleep(0.1)
                time.sleep(0.05)

    threads = [threading.Thread(target=drive, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    while len(acknowledged) < 10:  # mid-traffic: some readings are in, most are not yet sent
        time.sleep(0.02)
    db_proxy.cut()
    time.sleep(CUT_SECONDS)
    db_proxy.restore()
    for thread in threads:
        thread.join(timeout=120)

    statuses = Counter(status for _, status, _, _, _ in answers)
    failures = [a for a in answers if a[1] != 200]
    assert set(statuses) == {200, 503}, statuses
    assert len(failures) >= 5  # the cut was felt: ~2 s of retries from two cars
    for _request_id, _status, body, retry_after, token in failures:
        assert body.startswith('{"error": {"code": "E2'), body
        assert retry_after is not None and retry_after.isdigit()
        assert token not in body
    # The process survived (same master) and served the tail of the drive with no manual step.
    assert web_via_proxy.proc.poll() is None
    assert answers[-1][1] == 200 and answers[-2][1] == 200

    # Every reading answered OK! is in the database, once; none was answered OK! twice.
    assert len(acknowledged) == 2 * READINGS_PER_CAR and set(acknowledged.values()) == {1}
    assert Reading.objects.count() == 2 * READINGS_PER_CAR
    assert sorted(Trip.objects.values_list("reading_count", flat=True)) == [READINGS_PER_CAR] * 2

    # Each 503 has its event, with the code it answered and the status.
    time.sleep(0.5)
    events = web_via_proxy.events_by_request_id()
    for request_id, _, body, _, _ in failures:
        event = events[request_id]
        assert event["http"]["status_code"] == 503
        assert event["error"]["code"] == body[len('{"error": {"code": "'):][:4]
        assert event["error"]["category"] == "database"
    assert {a[0] for a in answers} <= events.keys()  # an event for every request, OK or not


@pytest.mark.django_db(transaction=True)
@pytest.mark.live_web
def test_server_connections_terminated_by_postgres_are_replaced_without_a_failed_upload(
        db_proxy: TcpProxy, web_via_proxy: LiveWeb) -> None:
    car = vehicle_create(name="Terminated")
    readings = drive_readings(DrivePlan(session="term-1", start=datetime(2026, 5, 6, tzinfo=UTC), step_seconds=5))
    with httpx.Client(base_url=web_via_proxy.base_url, timeout=15) as http:
        def send() -> str:
            return http.post(f"/api/torque/upload/{car.token}", data=next(readings)).text

        first = [send() for _ in range(10)]
        ports = db_proxy.upstream_ports()
        with connection.cursor() as cursor:  # what an operator's pg_terminate_backend does to the server
            cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                           "WHERE client_port = ANY(%s) AND pid <> pg_backend_pid()", [ports])
            terminated = cursor.fetchone()[0]
        after = [send() for _ in range(10)]
    assert terminated >= 1  # the server's pooled connections (CONN_MAX_AGE) were killed under it
    assert first == after == ["OK!"] * 10  # the health check replaced them before use: no 503 at all
    assert Reading.objects.filter(vehicle=car.vehicle).count() == 20
