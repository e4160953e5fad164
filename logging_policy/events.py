"""WideEvent: one context-rich event per request or task, enriched as the work runs.

Code anywhere on a request or task reaches the open event through
`logging_policy.current.current_event()`. The event is emitted once, by whoever
opened it (the middleware or the task hooks), through `logging_policy.emit.event_emit`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.db import DatabaseError

from logging_policy.error_codes import CodedError, ErrorCode, classify_exception, error_code
from logging_policy.ids import event_timestamp, new_ids
from logging_policy.redact import OUTCOME_FIELDS, SCREENS, clip, event_scrub, fields_scrub, text_redact, token_shaped
from logging_policy.rounding import half_up


class WideEvent:
    """A mutable event: nested namespaces of plain values, timers and one error."""

    __slots__ = ("data", "secrets", "_started", "_opened_at", "_emitted", "_shared", "_timed", "_when_kept",
                 "_late")

    def __init__(self, operation: str, kind: str, request_id: str | None = None, trace_id: str | None = None,
                 shared: Mapping[str, dict[str, Any]] | None = None, shared_names: frozenset[str] | None = None
                 ) -> None:
        """`shared`: namespaces that stay the same for many events (service, deployment), added without
        a copy; the event copies one only if it writes to it. `shared_names`: their names, if known."""
        self._started = _now()
        # `timestamp` is written out when the event is kept (`complete_kept`): most are dropped.
        self._opened_at = _wall_now()
        self._emitted = False
        # The timers' running totals in seconds, unrounded: `timings()`, written out when kept.
        self._timed: dict[str, float] = {}
        self._when_kept: list[tuple[str, Callable[[WideEvent], Mapping[str, Any]]]] = []
        if shared_names is None:
            shared_names = frozenset(shared) if shared else _NO_NAMES
        self._shared = shared_names  # copied before a write (`_namespace`)
        # Values that must not appear anywhere in the written line (e.g. the upload token); `_late`: those
        # learned once untrusted values were set (None until one is), replaced in them if the event is kept.
        self.secrets: set[str] = set()
        self._late: list[str] | None = None
        if request_id is None or trace_id is None:
            fresh_request_id, fresh_trace_id = new_ids()
            request_id, trace_id = request_id or fresh_request_id, trace_id or fresh_trace_id
        global _head
        if _head[0] is not shared:  # new namespaces: a new process (or a test's reset)
            _head = (shared, {**_CORE_HEAD, **(shared or _NO_FIELDS)})
        # The fields in their order, copied: half the cost of building the dict key by key.
        self.data = data = _head[1].copy()
        data["operation"] = operation
        data["kind"] = kind
        data["request_id"] = request_id
        data["trace_id"] = trace_id
        data["timings_ms"] = {}
        data["business"] = {}

    # --- enrichment ---------------------------------------------------------
    @property
    def trace_id(self) -> str:
        return self.data["trace_id"]

    @property
    def request_id(self) -> str:
        return self.data["request_id"]

    @property
    def operation(self) -> str:
        return self.data["operation"]

    @operation.setter
    def operation(self, value: str) -> None:
        self.data["operation"] = value

    def _namespace(self, namespace: str) -> dict[str, Any]:
        ns = self.data.get(namespace)
        if ns is None:
            ns = self.data[namespace] = {}
        elif namespace in self._shared:
            ns = self.data[namespace] = dict(ns)
            self._shared = self._shared - {namespace}
        return ns

    def set(self, namespace: str, fields: Mapping[str, Any] | None = None, /, **more: Any) -> None:
        """Merge fields into the namespace object `namespace` (created on first use), each untrusted value
        scrubbed (logging_policy/redact.py); what the code writes passes one screen per call.

        `event.set("trip", id=7)` or, for a dict already built, `event.set("telemetry", described)`:
        passing a dict as keywords (`**described`) costs a repack of every key.
        """
        fresh = True  # a dict made here can become the namespace without a copy; the caller's cannot
        if fields is None:
            fields = more
        elif more:
            fields = {**fields, **more}
        else:
            fresh = False
        screen = SCREENS.get(namespace)
        if screen is None or not screen(fields):
            fields, fresh = fields_scrub(namespace, fields, self.secrets, mine=fresh), True
            if self._late is None:
                self._late = []
        ns = self.data.get(namespace)
        if ns is None:
            self.data[namespace] = fields if fresh else dict(fields)
        else:
            (self._namespace(namespace) if namespace in self._shared else ns).update(fields)

    def set_when_kept(self, namespace: str, build: Callable[[WideEvent], Mapping[str, Any]]) -> None:
        """Fields only a written event needs (not sampling): `build(event)` runs at emission if the event is
        kept, before it is serialized; what `set` puts in `namespace` meanwhile wins. Most events are
        dropped, so most never pay for them."""
        self._when_kept.append((namespace, build))

    def complete_kept(self) -> None:
        """Write out what only a written event shows: the timestamp, the queries' total time rounded, and
        the `set_when_kept` builders' fields (emission, once the event is kept; after `close`)."""
        data = self.data
        data["timestamp"] = event_timestamp(self._opened_at)
        if self._timed:
            data["timings_ms"].update(self.timings())
        if (db := data.get("db")) is not None and type(time_ms := db.get("time_ms")) is float:
            db["time_ms"] = half_up(time_ms, 1000.0)  # query times add up unrounded: there are many
        for namespace, build in self._when_kept:
            try:
                fields = build(self)
            except Exception as exc:  # noqa: BLE001 - describing the work must not lose its event
                self.note_warning("E500", f"event enrichment failed: {type(exc).__name__}")
                continue
            present = self.data.get(namespace)
            self.set(namespace, {**fields, **present} if present else fields)
        self._when_kept.clear()
        if self._late:
            event_scrub(self.data, self._late)
            self._late.clear()

    def redact_value(self, secret: str) -> bool:
        """Never write `secret` in this event: every occurrence in an untrusted value becomes "[redacted]".
        False when it is too short to be one (it would redact ordinary words, and guard nothing)."""
        if len(secret) < 4:
            return False
        if self._late is not None and secret not in self.secrets:
            self._late.append(secret)
        self.secrets.add(secret)
        return True

    def client_text(self, text: str, limit: int) -> str:
        """Text a client chose, for an untrusted field of this event: cut to `limit` (scrubbed first if it is
        cut), and every run in it shaped like an upload token a secret of the event (it may be another
        car's live token). `set` scrubs it."""
        for run in token_shaped(text):
            self.redact_value(run)
        return clip(text, limit, self.secrets)

    def get(self, namespace: str, key: str, default: Any = None) -> Any:
        ns = self.data.get(namespace)
        return ns.get(key, default) if isinstance(ns, dict) else default

    def append(self, namespace: str, key: str, value: Any, limit: int = 50) -> None:
        """Append to the list at `namespace.key` (bounded, so an event cannot grow without end)."""
        items = self._namespace(namespace).setdefault(key, [])
        if len(items) < limit:
            items.append(value)

    def fact(self, name: str, value: Any = True) -> None:
        """Record a business fact (`trip_created`, `gas_mode_entered`, ...)."""
        self.data["business"][name] = value

    def timer(self, name: str) -> _Timer:
        """`with event.timer("parse"):` adds the block's wall time to `timings_ms.parse` (accumulating)."""
        return _Timer(self._timed, name)

    def timings(self) -> dict[str, float]:
        """The timers' totals as `timings_ms` shows them: in ms to the microsecond, each added to a value
        `set` there by hand. Written out for a kept event only (`complete_kept`): the sums stay exact
        (rounding at every stop would lose every block < 0.5 us), and a dropped event never rounds."""
        hand = self.data.get("timings_ms") or _NO_FIELDS
        # half_up(ms, 1000.0)'s arithmetic: a timer's total is a finite float.
        return {name: ((hand.get(name, 0.0) + total * 1000.0) * 1000.0 + 0.5) // 1.0 / 1000.0
                for name, total in self._timed.items()}

    def add_error(self, error: ErrorCode | BaseException | str, message: str | None = None) -> ErrorCode:
        """Mark the event failed with a structured error; the first error wins the `error` slot."""
        if isinstance(error, BaseException):
            code = classify_exception(error)
            if message is None:
                message = error.message if isinstance(error, CodedError) else exception_text(error)
            err_type = type(error).__name__
        else:
            code = error_code(error) if isinstance(error, str) else error
            err_type = None
        self.data["success"] = False
        if "error" not in self.data:
            if self._late is None:
                self._late = []
            self.data["error"] = {
                "code": code.code,
                "name": code.name,
                "category": str(code.category),
                "severity": str(code.severity),
                "alert": code.alert,
                "retriable": code.retriable,
                "message": text_redact(message or code.description, self.secrets)[:500],
            }
            if err_type:
                self.data["error"]["type"] = err_type
        return code

    def note_warning(self, code: str, message: str) -> None:
        """A degradation that did not fail the work (cache down, task not queued)."""
        warnings: list[dict[str, str]] = self.data.setdefault("warnings", [])
        if len(warnings) < 20:
            if self._late is None:
                self._late = []
            warnings.append({"code": code, "message": text_redact(message, self.secrets)[:300]})

    def record_query(self, duration_ms: float) -> None:
        db = self.data.get("db")
        if db is None:
            self.data["db"] = {"queries": 1, "time_ms": duration_ms}
        else:
            db["queries"] += 1
            db["time_ms"] += duration_ms  # rounded once, at close

    # --- closing ----------------------------------------------------------
    def close(self) -> dict[str, Any] | None:
        """Stamp the duration and hand the data out exactly once (None on later calls): what sampling
        decides on. A kept event is completed by `complete_kept` before it is written."""
        if self._emitted:
            return None
        self._emitted = True
        data = self.data
        # half_up(ms, 1000.0) inlined (a call less on every event): a duration is a small finite float.
        data["duration_ms"] = ((_now() - self._started) * 1_000_000.0 + 0.5) // 1.0 / 1000.0
        return data

    # --- units of work ------------------------------------------------------
    @contextmanager
    def rollback_guard(self) -> Iterator[None]:
        """`with event.rollback_guard(), transaction.atomic():` when the block raises, whatever it set on the event
        is undone, so that facts describe committed work only; its errors, warnings, timings and queries stay."""
        saved = {key: _namespace_copy(value) for key, value in self.data.items() if key not in OUTCOME_FIELDS}
        builders = len(self._when_kept)
        try:
            yield
        except BaseException:
            del self._when_kept[builders:]
            for key in [key for key in self.data if key not in OUTCOME_FIELDS and key not in saved]:
                del self.data[key]
            self.data.update(saved)
            raise


def _namespace_copy(value: Any) -> Any:
    """A copy deep enough to undo `set`, `fact` and `append` (which grows lists in place)."""
    if type(value) is not dict:
        return value
    return {k: list(v) if type(v) is list else v for k, v in value.items()}


_now = time.perf_counter
_wall_now = time.time
_NO_NAMES: frozenset[str] = frozenset()
_NO_FIELDS: Mapping[str, Any] = {}
_CORE_HEAD: dict[str, Any] = {"timestamp": None, "operation": None, "kind": None, "request_id": None, "trace_id": None,
                              "success": True, "timings_ms": None, "business": None}
# (the shared namespaces, the core fields and then them) of the last event opened.
_head: tuple[Mapping[str, dict[str, Any]] | object | None, dict[str, Any]] = (object(), {})


def exception_text(error: BaseException) -> str:
    """`Type: message`, for an event. A database error keeps its first line only: PostgreSQL's DETAIL
    quotes the row a constraint refused (`Failing row contains (..., 47.612, -122.335, ...)`)."""
    text = str(error)
    if isinstance(error, DatabaseError):
        text = text.split("\n", 1)[0]
    return f"{type(error).__name__}: {text}"


class _Timer:
    """A class, not @contextmanager: a generator per timed block costs several times more."""

    __slots__ = ("totals", "name", "start")

    def __init__(self, totals: dict[str, float], name: str) -> None:
        self.totals = totals
        self.name = name

    def __enter__(self) -> None:
        self.start = _now()

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        end = _now()
        totals = self.totals
        totals[self.name] = totals.get(self.name, 0.0) + (end - self.start)
