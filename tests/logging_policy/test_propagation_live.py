"""An admin save is in force in another, real process within 5 seconds."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from logging_policy.changes import policy_active_get_or_create
from logging_policy.models import OperationRule
from logging_policy.synthetic import trace_id_drawing
from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.vehicles import vehicle_create
from tests.live import LiveWeb
from tests.logging_policy.policy_form import policy_form_data

PROPAGATION_BOUND_S = 5.0


@pytest.mark.django_db(transaction=True)
@pytest.mark.live_web
def test_raising_uploads_to_100_percent_in_the_admin_keeps_every_upload_in_another_process(
        live_web: LiveWeb, client) -> None:
    policy = policy_active_get_or_create()  # transactional tests before this one flush the seed away
    OperationRule.objects.filter(policy=policy, operation="telemetry_upload").update(sample_rate=0.05)
    volt = vehicle_create(name="Live Volt")
    readings = drive_readings(DrivePlan(session="live-1", start=datetime(2026, 3, 3, tzinfo=UTC), gas_miles=0.0))
    # Trace ids drawing at or above 25 %: dropped at the new-vehicle rate, kept only at 100 %.
    trace_ids = (trace_id_drawing(at_least=0.25, skip=i) for i in range(10_000))

    def send() -> str:
        return live_web.upload(volt.token, next(readings), trace_id=next(trace_ids))

    send()  # opens the trip: a critical event, kept whatever the rate
    time.sleep(2.1)  # both server processes re-check the policy they hold
    before = [send() for _ in range(10)]
    assert not set(before) & live_web.events_by_request_id().keys()  # 5 % (25 % for a new vehicle): dropped

    user = User.objects.create_user("live-editor", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_sampling_policy"))
    client.force_login(user)
    saved_at = time.monotonic()
    page = client.post(reverse("admin:logging_policy_loggingpolicy_change", args=[policy.pk]),
                       policy_form_data(policy, rules={"telemetry_upload": {"sample_rate": 1.0}}), follow=True)
    assert "is in force here now and in every process within 2 seconds" in page.content.decode()
    policy.refresh_from_db()

    sent: list[tuple[float, str]] = []
    while time.monotonic() - saved_at < PROPAGATION_BOUND_S:
        sent.append((time.monotonic() - saved_at, send()))
        time.sleep(0.1)
    after = [send() for _ in range(20)]

    events = live_web.events_by_request_id()
    kept_at = [at for at, request_id in sent if request_id in events]
    assert kept_at, "no upload was kept within 5 seconds of the save"
    first = min(kept_at)
    assert all(request_id in events for at, request_id in sent if at >= first + 2.0)
    assert all(request_id in events for request_id in after)
    for request_id in after:
        assert events[request_id]["sampling"] | {"policy_source": None} == {
            "reason": "operation_rate", "rate": 1.0, "sample_rate": 1.0, "policy_version": policy.version,
            "policy_source": None, "key": "telemetry_upload|200|"}
    print(f"first upload kept {first:.2f}s after the save; {len({e['service']['instance_id'] for e in events.values()})}"
          " server processes wrote events")
