"""One wide event per Celery task run, in the trace of the request that queued it."""

from __future__ import annotations

import time
from itertools import count
from datetime import UTC, datetime

import pytest
from logging_policy.current import current_event
from logging_policy.sampling import trace_draw
from logging_policy.task_events import TRACE_HEADER
from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.tasks import trip_finalize_task
from tests.event_schema import schema_errors
from tests.worker_tasks import flaky, log_personal_data

START = datetime(2026, 7, 1, 7, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_each_run_of_a_retried_task_emits_one_event(wide_events) -> None:
    # apply() runs the task through Celery's real tracer in this process; each retry runs after the last.
    assert flaky.apply(args=(2,)).get() == "done"
    runs = [e for e in wide_events.events if e["operation"] == "flaky"]
    assert [(e["task"]["retries"], e["success"], e["task"]["state"]) for e in runs] == [
        (0, False, "RETRY"), (1, False, "RETRY"), (2, True, "SUCCESS")]
    assert runs[0]["error"]["type"] == "ConnectionError" and runs[0]["task"]["retry_scheduled"] is True
    assert [e["business"]["attempt"] for e in runs] == [0, 1, 2]
    assert len({e["task"]["id"] for e in runs}) == 1 and "error" not in runs[2]


@pytest.mark.django_db
def test_a_task_that_exhausts_its_retries_emits_a_failed_event(wide_events) -> None:
    result = flaky.apply(args=(5,))
    assert result.failed()
    runs = [e for e in wide_events.events if e["operation"] == "flaky"]
    assert len(runs) == 3
    last = runs[-1]
    assert (last["task"]["retries"], last["success"], last["task"]["state"]) == (2, False, "FAILURE")
    assert last["error"]["code"] == "E500" and last["kind"] == "task"
    assert current_event().request_id == ""  # nothing left bound after the runs


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_request_and_the_task_it_queued_share_one_trace(volt, upload, wide_events, live_worker) -> None:
    for params in drive_readings(DrivePlan(session="t-1", start=START, electric_miles=1, gas_miles=0)):
        assert upload(volt.token, params).content == b"OK!"
    later = next(drive_readings(DrivePlan(session="t-2", start=START.replace(hour=12), start_odometer_miles=12_001)))
    response = upload(volt.token, later, traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    assert response.content == b"OK!"
    request_event = wide_events.events[-1]
    assert request_event["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert request_event["tasks"]["queued"] == ["telemetry.tasks.trip_finalize"]

    task_event = live_worker.wait_for_event(lambda e: e.get("trace_id") == request_event["trace_id"])
    assert task_event["kind"] == "task" and task_event["operation"] == "trip_finalize"
    assert task_event["task"]["parent_request_id"] == response["X-Request-ID"]
    assert task_event["task"]["name"] == "telemetry.tasks.trip_finalize" and task_event["task"]["queue"] == "celery"
    assert task_event["success"] is True and task_event["business"] == {"trip_finalized": True}
    assert task_event["db"]["queries"] >= 3 and task_event["timings_ms"]["queue_wait"] >= 0
    assert schema_errors(task_event) == []


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_failing_task_on_the_worker_emits_one_failed_event(live_worker) -> None:
    task_id = trip_finalize_task.delay("not-a-trip-id").id  # type: ignore[arg-type]  # bad input: the primary key lookup raises
    failed = live_worker.wait_for_event(lambda e: e.get("task", {}).get("id") == task_id)
    assert failed["success"] is False and failed["task"]["state"] == "FAILURE"
    assert failed["error"]["code"] == "E500" and failed["error"]["type"] == "ValueError"
    assert failed["sampling"]["reason"] == "error"
    assert schema_errors(failed) == []
    time.sleep(1.0)  # a second event for the same run would have been written by now
    assert [e["task"]["id"] for e in live_worker.events() if e.get("kind") == "task"].count(task_id) == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_each_run_of_a_retried_task_on_the_worker_emits_one_event(live_worker) -> None:
    """The retry goes back through Redis and runs again on the worker: one event per run, same task id."""
    # A trace whose draw keeps its successful run too under the worker's real policy (the failed run is
    # kept as an error whatever the draw).
    trace = next(t for t in (f"{i:032x}" for i in count(1)) if trace_draw(t) < 0.01)
    task_id = flaky.apply_async(args=(1,), headers={TRACE_HEADER: trace}).id
    live_worker.wait_for_event(lambda e: e.get("task", {}).get("id") == task_id and e["task"]["state"] == "SUCCESS")
    runs = [e for e in live_worker.events() if e.get("task", {}).get("id") == task_id]
    assert [(e["task"]["retries"], e["task"]["state"], e["success"]) for e in runs] == [
        (0, "RETRY", False), (1, "SUCCESS", True)]
    assert runs[0]["error"]["type"] == "ConnectionError" and runs[0]["task"]["retry_scheduled"] is True
    assert [e["trace_id"] for e in runs] == [trace, trace] and [e["business"]["attempt"] for e in runs] == [0, 1]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_log_shows_no_e_mail_or_upload_token(live_worker) -> None:
    """The worker replaces the root logger's handlers with its own: they get the console's filter too."""
    email, token = "jane.doe@example.com", "W0rkerLogT0kenAbCdEfGhIjKlMnOpQr"
    task_id = log_personal_data.delay(email, token).id
    live_worker.wait_until(lambda: f"{task_id}] succeeded" in live_worker.log(), "the task's success line")
    log = live_worker.log()
    assert "no vehicle for [redacted] at /api/torque/upload/[redacted]" in log and "task saw [redacted]" in log
    assert email not in log and token not in log
