"""Real processes for tests: a Celery worker on Redis against the test database.

Nothing here is a mock: the worker is `celery -A volttracker worker` in a
subprocess, consuming from the real Redis broker and writing to the same
PostgreSQL test database the test uses (so tests using it must commit:
`django_db(transaction=True)`). Its wide events go to a file the test can read.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.conf import settings
from django.db import connection

from tests.event_schema import schema_errors

ROOT = Path(__file__).resolve().parent.parent


def database_url_for_current_connection() -> str:
    """The URL of the database this test process uses right now (the test database)."""
    s = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.fail("a live worker needs PostgreSQL: set DATABASE_URL (make test does)")
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def require_redis() -> str:
    url = settings.REDIS_URL
    if not url:
        pytest.fail("a live worker needs Redis: set REDIS_URL (make test does)")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {url} is not reachable: {exc}")
    return url


class LiveProcess:
    def __init__(self, proc: subprocess.Popen[bytes], events_path: Path, log_path: Path) -> None:
        self.proc = proc
        self.events_path = events_path
        self.log_path = log_path
        self._valid = 0  # events already checked against the schema (the file is re-read at every poll)

    def events(self) -> list[dict[str, Any]]:
        """The process's events so far; each is checked against docs/events.schema.json, as the
        in-process tests' events are (the autouse check in tests/conftest.py)."""
        if not self.events_path.exists():
            return []
        events = [orjson.loads(line) for line in self.events_path.read_bytes().splitlines() if line.strip()]
        for event in events[self._valid if self._valid <= len(events) else 0:]:
            if errors := schema_errors(event):
                pytest.fail(f"{self.events_path.name}: an event breaks the schema: {errors}\n{event}")
        self._valid = len(events)
        return events

    def wait_for_event(self, predicate: Any, timeout: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events():
                if predicate(event):
                    return event
            if self.proc.poll() is not None:
                pytest.fail(f"worker exited with {self.proc.returncode}:\n{self.log()}")
            time.sleep(0.1)
        pytest.fail(f"no matching event within {timeout}s; worker log:\n{self.log()[-4000:]}")

    def wait_until(self, predicate: Callable[[], Any], what: str, timeout: float = 30.0) -> None:
        """Poll `predicate` until it is true; fail with the process's log after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                pytest.fail(f"{what} did not happen within {timeout}s; log:\n{self.log()[-3000:]}")
            time.sleep(0.2)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def live_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The environment of a live process; `extra` overrides any of it (a proxied DATABASE_URL, say)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DJANGO_SETTINGS_MODULE="volttracker.settings",
        DATABASE_URL=database_url_for_current_connection(),
        REDIS_URL=require_redis(),
        WIDE_EVENTS_PATH=str(tmp / "events.jsonl"),
        # Celery's per-task lines (quiet by default) show in a failing test's log; beat's start is awaited.
        CELERY_TASK_LOG_LEVEL="INFO",
    )
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def live_worker(django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[LiveProcess]:
    """One real Celery worker for the session, started after the test database exists."""
    tmp = tmp_path_factory.mktemp("worker")
    with django_db_blocker.unblock():
        env = live_env(tmp)
    from volttracker.celery import app

    app.control.purge()  # messages left by earlier tests that ran without a worker
    log_path = tmp / "worker.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "volttracker", "worker", "--pool=solo", "--loglevel=INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"test-{os.getpid()}@%h",
             "--include", "tests.worker_tasks"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    worker = LiveProcess(proc, tmp / "events.jsonl", log_path)
    deadline = time.monotonic() + 60
    while "ready." not in worker.log():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"Celery worker did not start:\n{worker.log()}")
        time.sleep(0.2)
    yield worker
    live_process_stop(worker)


def live_beat_start(tmp: Path, env: dict[str, str]) -> LiveProcess:
    """`celery beat` sending the settings' schedule to the real broker (run by `live_worker`); stop it after."""
    log_path = tmp / "beat.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "volttracker", "beat", "--loglevel=INFO",
             "--schedule", str(tmp / "celerybeat-schedule")],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    beat = LiveProcess(proc, Path(env["WIDE_EVENTS_PATH"]), log_path)
    beat.wait_until(lambda: "beat: Starting" in beat.log() or proc.poll() is not None, "beat start", timeout=60)
    if proc.poll() is not None:
        pytest.fail(f"celery beat exited with {proc.returncode}:\n{beat.log()}")
    return beat


class LiveWeb(LiveProcess):
    """A real web server process (gunicorn, two worker processes) serving the test database."""

    def __init__(self, proc: subprocess.Popen[bytes], events_path: Path, log_path: Path, base_url: str) -> None:
        super().__init__(proc, events_path, log_path)
        self.base_url = base_url

    def events_by_request_id(self) -> dict[str, dict[str, Any]]:
        return {event["request_id"]: event for event in self.events()}

    def upload(self, token: str, params: dict[str, str], *, trace_id: str) -> str:
        """POST one Torque upload in trace `trace_id` (its draw decides sampling); returns its request id."""
        import httpx

        request_id = str(uuid.uuid4())
        response = httpx.post(f"{self.base_url}/api/torque/upload/{token}", data=params, timeout=10,
                              headers={"X-Request-ID": request_id, "traceparent": f"00-{trace_id}-{'3' * 16}-01"})
        assert response.text == "OK!", response.text
        return request_id


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def live_web_start(tmp: Path, env: dict[str, str], *, workers: int = 2) -> LiveWeb:
    """Start gunicorn with `env` (see live_env) on a free loopback port; returns once it answers."""
    import httpx

    port = free_port()
    log_path = tmp / "web.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "volttracker.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", str(workers), "--timeout", "30", "--graceful-timeout", "5"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    web = LiveWeb(proc, Path(env["WIDE_EVENTS_PATH"]), log_path, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{web.base_url}/api/torque/upload/not-a-token", timeout=2)  # any answer: it serves
            return web
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"web server did not start:\n{web.log()}")
            time.sleep(0.2)


@contextmanager
def live_web_running(tmp: Path, env: dict[str, str], *, workers: int = 2) -> Iterator[LiveWeb]:
    """`live_web_start` for the block, stopped after it whatever happens: the body of a web fixture."""
    web = live_web_start(tmp, env, workers=workers)
    try:
        yield web
    finally:
        live_process_stop(web)


def live_process_stop(live: LiveProcess) -> None:
    live.proc.terminate()
    try:
        live.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        live.proc.kill()


@pytest.fixture(scope="session")
def live_web(django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[LiveWeb]:
    """gunicorn on a free 127.0.0.1 port against the test database and Redis; events to a file."""
    tmp = tmp_path_factory.mktemp("web")
    with django_db_blocker.unblock():
        env = live_env(tmp)
    with live_web_running(tmp, env) as web:
        yield web
