"""A lock held on the readings table: web requests give up in seconds (503 E203), other processes wait.

The lock is real (`LOCK TABLE ... IN ACCESS EXCLUSIVE MODE` from another connection) and the server is a
real gunicorn, whose connections get the web timeouts from volttracker/wsgi.py.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg2
import pytest
from django.conf import settings

from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.models import Reading
from telemetry.vehicles import vehicle_create
from tests.live import ROOT, LiveWeb, database_url_for_current_connection, live_env, live_web_running


@pytest.fixture
def web(transactional_db: None, tmp_path: Path) -> Iterator[LiveWeb]:
    with live_web_running(tmp_path, live_env(tmp_path)) as web:
        yield web


@contextmanager
def readings_locked() -> Iterator[None]:
    """The readings table locked against every reader and writer by another session, until the block ends."""
    holder = psycopg2.connect(database_url_for_current_connection())
    try:
        with holder.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Reading._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        yield
    finally:
        holder.rollback()
        holder.close()


def timed(method: str, url: str, **kwargs: Any) -> tuple[httpx.Response, float]:
    """The response and the seconds it took (the limit is generous: a hung worker is what is measured)."""
    started = time.monotonic()
    response = httpx.request(method, url, timeout=40, **kwargs)
    return response, time.monotonic() - started


@pytest.mark.django_db(transaction=True)
@pytest.mark.live_web
def test_upload_behind_a_table_lock_answers_503_e203_in_seconds_and_leaves_its_event(web: LiveWeb) -> None:
    car = vehicle_create(name="Locked out")
    first, second = list(drive_readings(DrivePlan(session="lock-1", start=datetime(2026, 6, 1, tzinfo=UTC))))[:2]
    upload_url = f"{web.base_url}/api/torque/upload/{car.token}"
    request_id = str(uuid.uuid4())
    lock_s = settings.DATABASE_WEB_LOCK_TIMEOUT_MS / 1000
    with readings_locked():
        upload, upload_s = timed("POST", upload_url, data=first, headers={"X-Request-ID": request_id})
        health, health_s = timed("GET", f"{web.base_url}/healthz")

    print({"upload_s": round(upload_s, 3), "healthz_s": round(health_s, 3)})  # docs/reliability.md's figures
    assert (upload.status_code, upload.json()["error"]["code"]) == (503, "E203"), upload.text
    assert upload.headers["Retry-After"] == "5"
    # It waited for the lock as long as the lock timeout allows, then no longer (it took 31 s and a killed
    # worker with no limit).
    assert lock_s - 0.1 <= upload_s < lock_s + 1.5, upload_s
    event = web.wait_for_event(lambda e: e["request_id"] == request_id)
    assert event["http"]["status_code"] == 503 and event["success"] is False
    assert (event["error"]["code"], event["error"]["name"], event["error"]["retriable"]) == (
        "E203", "database_timeout", True)
    assert car.token not in str(event)

    assert health.status_code == 503 and health.json()["status"] == "unavailable"
    assert health.json()["checks"]["database"] == "error: database_timeout (OperationalError)"
    assert health_s < settings.HEALTHZ_DATABASE_TIMEOUT_MS / 1000 + 1.0, health_s

    # The lock gone, the same worker processes serve again: the refused reading is sent again and stored.
    assert httpx.post(upload_url, data=first, timeout=10).text == "OK!"
    assert httpx.post(upload_url, data=second, timeout=10).text == "OK!"
    assert httpx.get(f"{web.base_url}/healthz", timeout=10).json()["checks"]["database"] == "ok"
    assert Reading.objects.filter(vehicle_id=car.vehicle.pk).count() == 2


SHOW_TIMEOUTS = ("from django.db import connection\n"
                 "with connection.cursor() as c:\n"
                 "    c.execute('SHOW statement_timeout'); s = c.fetchone()[0]\n"
                 "    c.execute('SHOW lock_timeout'); print(s, c.fetchone()[0])\n")


def timeouts_seen(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.django_db(transaction=True)
def test_only_the_web_process_bounds_its_queries(tmp_path: Path) -> None:
    env = live_env(tmp_path, DATABASE_WEB_STATEMENT_TIMEOUT_MS="4500", DATABASE_WEB_LOCK_TIMEOUT_MS="1500")
    # The WSGI application, as gunicorn and runserver load it.
    assert timeouts_seen(env, "-c", "import volttracker.wsgi\n" + SHOW_TIMEOUTS) == "4500ms 1500ms"
    # manage.py (migrate and every command) and the Celery app: PostgreSQL's defaults, no limit.
    assert timeouts_seen(env, "manage.py", "shell", "-c", SHOW_TIMEOUTS) == "0 0"
    celery = "import django; django.setup(); import volttracker.celery\n" + SHOW_TIMEOUTS
    assert timeouts_seen(env, "-c", celery) == "0 0"
