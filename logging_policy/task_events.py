"""One wide event per Celery task run, in the trace of the request that queued it.

Wired through Celery's signals (connected when the `logging_policy` app is
ready, in web and worker processes alike):

- `before_task_publish` copies the current event's trace id and request id
  into the message headers, so a task joins the trace of whoever queued it;
- `task_prerun` opens the run's event (`kind=task`) and makes it current;
- `task_failure` / `task_retry` record the error;
- `task_postrun`, which Celery sends after every run whatever its outcome,
  closes and emits it: exactly once per run, retries included.
"""

from __future__ import annotations

import logging
import time
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from celery import Task, signals

from logging_policy.current import current_event, event_bound
from logging_policy.emit import event_emit, event_open
from logging_policy.events import WideEvent

# Message headers; a prefix keeps them clear of Celery's own request fields.
TRACE_HEADER = "wide_trace_id"
REQUEST_HEADER = "wide_request_id"
ENQUEUED_HEADER = "wide_enqueued_at"
FAILED_STATES = frozenset({"FAILURE", "RETRY"})

_internal = logging.getLogger("logging_policy")


@dataclass(slots=True)
class _OpenRun:
    event: WideEvent
    scope: ExitStack


# Per task id a stack, not one slot: an eager retry runs the same task id inside the first run.
_open_runs: dict[str, list[_OpenRun]] = {}


def _innermost(task_id: str) -> _OpenRun | None:
    runs = _open_runs.get(task_id)
    return runs[-1] if runs else None


def task_operation(name: str) -> str:
    """`telemetry.tasks.trip_finalize` -> `trip_finalize` (the name sampling rules use)."""
    return name.rsplit(".", 1)[-1]


def _header(request: Any, name: str) -> Any:
    value = getattr(request, name, None)
    if value is None:  # some Celery paths leave custom headers nested
        value = (getattr(request, "headers", None) or {}).get(name)
    return value


@signals.before_task_publish.connect(weak=False)
def trace_into_headers(sender: str | None = None, headers: dict[str, Any] | None = None, **_: Any) -> None:
    try:
        event = current_event()
        if headers is not None and event.trace_id:
            headers[TRACE_HEADER] = event.trace_id
            headers[REQUEST_HEADER] = event.request_id
        if headers is not None:
            headers[ENQUEUED_HEADER] = time.time()
    except Exception:  # noqa: BLE001 - tracing must never stop a task from being queued
        _internal.exception("could not add trace headers")


@signals.task_prerun.connect(weak=False)
def task_event_open(task_id: str = "", task: Task | None = None, **_: Any) -> None:
    if task is None:  # Celery always sends it
        return
    try:
        request = task.request
        parent = current_event()  # eager runs happen inside the caller's event
        trace_id = _header(request, TRACE_HEADER) or parent.trace_id or None
        parent_request_id = _header(request, REQUEST_HEADER) or parent.request_id or None
        event = event_open(operation=task_operation(task.name), kind="task", request_id=task_id,
                           trace_id=trace_id)
        delivery = request.delivery_info or {}
        event.set("task", id=task_id, name=task.name, retries=request.retries or 0,
                  queue=delivery.get("routing_key") or ("eager" if request.is_eager else None),
                  eager=bool(request.is_eager), worker=request.hostname,
                  parent_request_id=parent_request_id, args_count=len(request.args or ()))
        enqueued = _header(request, ENQUEUED_HEADER)
        if isinstance(enqueued, (int, float)):
            event.set("timings_ms", queue_wait=round(max(time.time() - enqueued, 0.0) * 1000.0, 3))
        scope = ExitStack()
        scope.enter_context(event_bound(event))
        _open_runs.setdefault(task_id, []).append(_OpenRun(event, scope))
    except Exception:  # noqa: BLE001 - a task runs even when its event cannot be opened
        _internal.exception("could not open the task event")


@signals.task_failure.connect(weak=False)
def task_event_failure(task_id: str = "", exception: BaseException | None = None, **_: Any) -> None:
    run = _innermost(task_id)
    if run is not None and exception is not None:
        run.event.add_error(exception)


@signals.task_retry.connect(weak=False)
def task_event_retry(request: Any = None, reason: Any = None, **_: Any) -> None:
    run = _innermost(getattr(request, "id", "") or "")
    if run is None:
        return
    cause = getattr(reason, "exc", None)
    run.event.add_error(cause if isinstance(cause, BaseException) else "E500", None if cause else str(reason))
    run.event.set("task", retry_scheduled=True)


@signals.task_postrun.connect(weak=False)
def task_event_close(task_id: str = "", state: str | None = None, **_: Any) -> None:
    runs = _open_runs.get(task_id)
    if not runs:
        return
    run = runs.pop()
    if not runs:
        del _open_runs[task_id]
    try:
        run.scope.close()
    except Exception:  # noqa: BLE001 - the context must not leak, but neither may this raise
        _internal.exception("could not unbind the task event")
    event = run.event
    event.set("task", state=state)
    if state in FAILED_STATES and event.data["success"]:
        event.add_error("E500", f"task ended in state {state}")
    event_emit(event)
