"""The upload's wide event: one per request, with what an on-call engineer needs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from telemetry.drive_sim import DrivePlan, drive_readings

pytestmark = pytest.mark.django_db
START = datetime(2026, 2, 2, 8, 0, tzinfo=UTC)


def test_stored_upload_emits_one_event_with_its_story(volt, upload, wide_events) -> None:
    response = upload(volt.token, next(drive_readings(DrivePlan(session="e-1", start=START))))
    assert response.content == b"OK!"
    [event] = wide_events.events
    assert event["operation"] == "telemetry_upload"
    assert event["request_id"] == response["X-Request-ID"]
    assert event["http"]["status_code"] == 200
    assert event["http"]["path"] == "/api/torque/upload/[redacted]"
    assert event["vehicle"]["id"] == volt.vehicle.pk
    assert event["business"] == {"trip_created": True}
    assert event["telemetry"]["stored"] is True and event["telemetry"]["soc_pct"] == pytest.approx(80.0)
    assert volt.token not in wide_events.lines[0]
    assert "owner@example.com" not in wide_events.lines[0]
