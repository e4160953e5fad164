"""Shared fixtures: vehicles with tokens, an upload helper, captured wide events."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest
from django.db.backends.signals import connection_created
from django.test import Client
from django.test.client import MULTIPART_CONTENT

from logging_policy.adaptive import RATES
from logging_policy.policy import policy_forget, policy_override
from logging_policy.sampling import PolicySnapshot
from telemetry.auth import vehicle_cache_forget
from telemetry.vehicles import NewToken, vehicle_create
from tests.event_schema import schema_errors


def _test_process_yields_in_deadlocks(sender: Any, connection: Any, **_: Any) -> None:
    """A transactional test's teardown TRUNCATEs every table while the session's Celery worker may still
    run a task the test queued; the two can deadlock. PostgreSQL aborts the side that waits longest
    before its check runs: with a longer timeout here, that is the worker's task (retried by the next
    sweep in production terms), not the flush that the next test depends on."""
    if connection.vendor == "postgresql":
        # On the driver's connection: Django's wrappers (and the tests that count queries) never see it.
        with connection.connection.cursor() as cursor:
            cursor.execute("SET deadlock_timeout = '10s'")


connection_created.connect(_test_process_yields_in_deadlocks)


class FormClient(Client):
    """Posts a dict as Torque Pro and browsers do: urlencoded, multipart only when it holds a file.

    Django's test client posts every dict as multipart, which the upload route refuses unread (Torque Pro
    never sends it; telemetry/views.py `body_refusal`). Explicit content types pass through unchanged.
    """

    def post(self, path: str, data: Any = None, content_type: str = MULTIPART_CONTENT,  # type: ignore[override]
             **extra: Any) -> Any:  # the same call, with the keywords passed on through **extra
        if (content_type == MULTIPART_CONTENT and isinstance(data, dict)
                and not any(hasattr(value, "read") for value in data.values())):
            data, content_type = urlencode(data, doseq=True), "application/x-www-form-urlencoded"
        return super().post(path, data, content_type, **extra)


@pytest.fixture
def client() -> FormClient:
    """pytest-django's `client`, posting forms as FormClient does."""
    return FormClient()


@pytest.fixture
def new_vehicle(db: None) -> Callable[..., NewToken]:
    def make(name: str = "Test Volt", **kwargs: Any) -> NewToken:
        return vehicle_create(name=name, **kwargs)

    return make


@pytest.fixture
def volt(new_vehicle: Callable[..., NewToken]) -> NewToken:
    return new_vehicle()


@pytest.fixture
def upload(client: Client) -> Callable[..., Any]:
    """POST (or GET) one Torque upload; returns the response."""

    def send(token: str, params: dict[str, str], method: str = "post", **headers: str) -> Any:
        url = f"/api/torque/upload/{token}"
        if method == "get":
            return client.get(url, params, headers=headers)
        return client.post(url, params, headers=headers)

    return send


class EventCapture(logging.Handler):
    """Collects the written events. Defines write_line, so that events reach it as they reach the
    production handlers (emit.py's direct path); emit() serves any setup that goes through logging."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.lines: list[str] = []

    def write_line(self, line: bytes) -> None:
        self.lines.append(line.decode())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    @property
    def events(self) -> list[dict[str, Any]]:
        return [orjson.loads(line) for line in self.lines]


# No budget can bind either: a test's burst of one key is kept whole.
KEEP_ALL = PolicySnapshot(default_sample_rate=1.0, new_vehicle_rate=1.0, default_budget_per_minute=10**9)


@pytest.fixture(autouse=True)
def fresh_policy() -> Iterator[None]:
    """Each test starts with no cached policy, here or in Redis (an earlier run's copy would leak in),
    and with no per-key counts: an earlier test's events must not put a key over its budget."""
    policy_forget(shared=True)
    RATES.forget()
    yield
    policy_forget()


@pytest.fixture
def sampled_events() -> Iterator[EventCapture]:
    """The wide events written while the test runs, under the real policy (not keep-everything)."""
    handler = EventCapture()
    logger = logging.getLogger("wide_events")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def wide_events(sampled_events: EventCapture) -> Iterator[EventCapture]:
    """Every wide event written while the test runs, parsed; sampling keeps everything."""
    with policy_override(KEEP_ALL):
        yield sampled_events


@pytest.fixture(autouse=True)
def fresh_vehicle_cache() -> None:
    """No vehicle cached by an earlier test's uploads (SQLite reuses the ids a rolled-back test took)."""
    vehicle_cache_forget()


@pytest.fixture(autouse=True)
def _events_follow_schema() -> Iterator[None]:
    """Every wide event any test writes must validate against docs/events.schema.json."""
    handler = EventCapture()
    logger = logging.getLogger("wide_events")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    invalid = {i: errors for i, event in enumerate(handler.events) if (errors := schema_errors(event))}
    if invalid:
        pytest.fail(f"events break docs/events.schema.json: {invalid}")


pytest_plugins = ["tests.live"]
