"""Run by tests/logging_policy/test_standalone.py in a process of its own, under tests.standalone.settings:
logging_policy working in a project that has no telemetry app. Not collected by the suite itself."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from django.apps import apps

from logging_policy.changes import policy_active_get_or_create
from logging_policy.sampling import default_policy
from logging_policy.synthetic import trace_id_drawing
from logging_policy.vocabulary import vocabulary

pytestmark = pytest.mark.django_db


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.lines: list[bytes] = []

    def write_line(self, line: bytes) -> None:
        self.lines.append(line)

    @property
    def events(self) -> list[dict[str, Any]]:
        return [orjson.loads(line) for line in self.lines]


@pytest.fixture
def events() -> Iterator[Capture]:
    capture, logger = Capture(), logging.getLogger("wide_events")
    logger.addHandler(capture)
    try:
        yield capture
    finally:
        logger.removeHandler(capture)


def _traceparent(trace_id: str) -> dict[str, str]:
    return {"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}


def test_the_project_has_no_telemetry_and_nothing_registered() -> None:
    assert not apps.is_installed("telemetry")
    assert (vocabulary().business_events, vocabulary().secret_path_prefixes) == ((), ())
    assert set(default_policy().rules) == {"policy_sync"}  # logging_policy's own operation only


def test_a_request_is_one_event_with_the_request_fields(client, events) -> None:
    response = client.get("/hello/?q=1", headers={"User-Agent": "probe/1.0", "X-Request-ID": "req-1",
                                                   **_traceparent(trace_id_drawing(below=0.05))})
    assert response.content == b"hello" and response["X-Request-ID"] == "req-1"
    [event] = events.events
    assert {k: event[k] for k in ("operation", "kind", "request_id", "success")} == {
        "operation": "hello", "kind": "http", "request_id": "req-1", "success": True}
    assert event["http"] | {"client_network": None} == {
        "method": "GET", "route": "hello/", "path": "/hello/", "status_code": 200, "user_agent": "probe/1.0",
        "request_size_bytes": 0, "response_size_bytes": 5, "client_network": None}
    assert event["service"]["name"] == "standalone"
    assert event["sampling"]["reason"] == "default_rate" and event["sampling"]["rate"] == 0.05


def test_sampling_keeps_and_drops_by_the_policy(client, events) -> None:
    client.get("/hello/", headers=_traceparent(trace_id_drawing(below=0.05)))  # under the 5 % default: kept
    client.get("/hello/", headers=_traceparent(trace_id_drawing(at_least=0.05)))  # dropped
    assert client.get("/broken/", headers=_traceparent(trace_id_drawing(at_least=0.05))).status_code == 500  # kept
    reasons = [(e["http"]["path"], e["http"]["status_code"], e["sampling"]["reason"]) for e in events.events]
    assert reasons == [("/hello/", 200, "default_rate"), ("/broken/", 500, "error")]
    assert events.events[1]["error"]["code"] == "E500"


def test_the_policy_admin_and_the_overview_render_for_staff(admin_client, client, events) -> None:
    policy = policy_active_get_or_create()
    page = admin_client.get(f"/admin/logging_policy/loggingpolicy/{policy.pk}/change/")
    assert page.status_code == 200 and b"Sampling overview" in page.content
    overview = admin_client.get("/admin/logging_policy/loggingpolicy/overview/")
    assert overview.status_code == 200 and b"all operations" in overview.content
    assert client.get("/admin/logging_policy/loggingpolicy/overview/").status_code == 302  # not signed in
