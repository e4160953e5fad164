"""A request and the tasks it enqueued reach the same sampling decision, across real processes.

The upload is decided in this process, the trip finalization it queued (and the
stats refresh that one queued) in a real Celery worker. At equal rates the only
thing left to decide is the trace draw, which both sides take from the same trace
id: so per trace, either every event is written or none is. The policy is set in
the database and published as an admin save would publish it. Trip facts are
taken off the critical list and slow thresholds raised, so nothing but the draw
decides; the new-vehicle rate equals the others, so the floor cannot differ.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from logging_policy.changes import policy_active_get_or_create
from logging_policy.models import OperationRule
from logging_policy.payload import snapshot_to_payload
from logging_policy.policy import CHECK_INTERVAL_S, policy_publish
from logging_policy.sampling import default_policy, trace_draw
from logging_policy.synthetic import trace_id_drawing
from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.models import Trip, VehicleStats
from tests.live import LiveProcess

RATE = 0.5
NEVER_SLOW_MS = 600_000
START = datetime(2026, 4, 6, 7, 0, tzinfo=UTC)
TASK_OPERATIONS = {"trip_finalize", "vehicle_stats_refresh"}


@pytest.fixture
def half_rate_policy(live_worker: LiveProcess) -> Iterator[int]:
    """Every operation at RATE, nothing forced; published to every process. Defaults again afterwards."""
    policy = policy_active_get_or_create()  # transactional tests before this one flush the seed away
    policy.default_sample_rate = policy.new_vehicle_rate = RATE
    policy.default_slow_threshold_ms = NEVER_SLOW_MS
    policy.critical_events = ["charging_session_started", "refuel_detected"]  # no trip fact forces a keep
    policy.version += 1
    policy.save()
    for operation in ("telemetry_upload", *TASK_OPERATIONS):
        OperationRule.objects.update_or_create(policy=policy, operation=operation, defaults={
            "sample_rate": RATE, "slow_threshold_ms": NEVER_SLOW_MS, "always_keep": False})
    assert policy_publish(policy.payload())
    time.sleep(CHECK_INTERVAL_S + 0.2)  # the worker re-checks the shared copy at most this often
    yield policy.version
    assert policy_publish(snapshot_to_payload(default_policy()))
    time.sleep(CHECK_INTERVAL_S + 0.2)  # later worker tests must not run under this policy


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_request_and_its_tasks_are_kept_or_dropped_together(volt, upload, sampled_events, live_worker,
                                                            half_rate_policy) -> None:
    # Trace ids drawing on both sides of RATE, interleaved: both outcomes, known in advance.
    traces = [trace_id_drawing(below=RATE, skip=i) if i % 2 else trace_id_drawing(at_least=RATE, skip=i)
              for i in range(24)]
    sentinel = trace_id_drawing(below=RATE, skip=100)  # kept: its events show the worker is done
    first = next(drive_readings(DrivePlan(session="opening", start=START)))
    assert upload(volt.token, first).content == b"OK!"  # the first trip: nothing to finalize yet
    for i, trace_id in enumerate([*traces, sentinel]):
        # A new session each time: the upload opens a trip and queues the finalization of the previous one.
        plan = DrivePlan(session=f"trace-{i}", start=START + timedelta(hours=i + 1))
        response = upload(volt.token, next(drive_readings(plan)), traceparent=f"00-{trace_id}-{'7' * 16}-01")
        assert response.content == b"OK!"

    def sentinel_done() -> bool:
        ops = {e["operation"] for e in live_worker.events() if e.get("trace_id") == sentinel}
        return TASK_OPERATIONS <= ops

    # One solo worker, FIFO queue: the sentinel's stats refresh is queued after every earlier task.
    live_worker.wait_until(sentinel_done, "the sentinel's tasks being kept", timeout=60.0)
    assert Trip.objects.filter(vehicle=volt.vehicle, is_closed=False).count() == 1  # every queued task ran
    # Every finalization ran and so did the stats refresh; one reading each, no session moved: no drive counts.
    assert Trip.objects.filter(vehicle=volt.vehicle, is_closed=True, is_drive=False).count() == len(traces) + 1
    assert VehicleStats.objects.get(vehicle=volt.vehicle).total_trips == 0

    requests = {e["trace_id"]: e for e in sampled_events.events if e["operation"] == "telemetry_upload"}
    tasks: dict[str, set[str]] = {}
    for event in live_worker.events():
        if event.get("trace_id") in traces:
            tasks.setdefault(event["trace_id"], set()).add(event["operation"])
            assert event["sampling"] | {"policy_source": None, "key": None} == {
                "reason": "operation_rate", "rate": RATE, "sample_rate": 1 / RATE,
                "policy_version": half_rate_policy, "policy_source": None, "key": None}

    outcomes = {trace_id: (trace_id in requests, tasks.get(trace_id, set())) for trace_id in traces}
    mismatched = {t: o for t, o in outcomes.items() if o not in ((True, TASK_OPERATIONS), (False, set()))}
    assert mismatched == {}, f"request kept / task operations kept per trace: {mismatched}"
    kept = [t for t, (request_kept, _) in outcomes.items() if request_kept]
    assert kept == [t for t in traces if trace_draw(t) < RATE]  # the draw decided, in both processes
    assert 0 < len(kept) < len(traces)
    for trace_id in kept:
        assert requests[trace_id]["sampling"]["reason"] == "operation_rate"
        # Every older trip still open is queued again (the worker may lag): all finalizations, all in this trace.
        assert set(requests[trace_id]["tasks"]["queued"]) == {"telemetry.tasks.trip_finalize"}
