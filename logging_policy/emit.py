"""Opening and emitting wide events: the one place where keep/drop is decided.

`event_emit` closes the event, asks the sampler under the current policy,
stamps the `sampling` fields and writes one JSON line to the `wide_events`
logger. It never raises: a broken sink costs the event, not the request.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import time
from typing import Any

import orjson
from django.conf import settings

from logging_policy.adaptive import RATES
from logging_policy.counters import counters_record
from logging_policy.events import WideEvent
from logging_policy.metadata import static_fields_shared
from logging_policy.policy import policy_current
from logging_policy.redact import CORE_FIELDS, MINIMAL_FIELDS, STATIC_NAMESPACES
from logging_policy.sampling import budget_per_minute, decide

logger = logging.getLogger("wide_events")
_INFO = logging.INFO
_internal = logging.getLogger("logging_policy")


def event_open(*, operation: str, kind: str, request_id: str | None = None,
               trace_id: str | None = None) -> WideEvent:
    # Positional: keywords to a class cost a dict (this runs for every request).
    return WideEvent(operation, kind, request_id, trace_id, static_fields_shared(), STATIC_NAMESPACES)


def _dumps(data: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(data, default=str)
    except orjson.JSONEncodeError:
        pass
    try:
        # A dict with non-string keys somewhere (ids as keys, say). The option costs a third of the
        # serialization on every event, so it is paid only by the events that need it.
        return orjson.dumps(data, default=str, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:
        # What orjson refuses even so: integers beyond 64 bits, keys of other types (a tuple), text
        # that is not valid UTF-8 (also what an object's str() returns).
        return orjson.dumps(_jsonable(data), default=_text)


def _text(value: Any) -> str:
    return _jsonable(str(value))


_INT_RANGE = range(-(2**63), 2**64)  # what orjson writes as a number


def _jsonable(value: Any) -> Any:
    """`value` with what orjson refuses made into strings: dict keys of other types, integers beyond
    64 bits, strings that are not valid UTF-8 (a lone surrogate). Only for events that need it."""
    if isinstance(value, dict):
        return {_jsonable(key if type(key) is str else str(key)): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if type(value) is int and value not in _INT_RANGE:
        return str(value)
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode()
    return value


def serialize(data: dict[str, Any]) -> bytes:
    """One JSON line, at most WIDE_EVENTS_MAX_BYTES; any value type serializes (through str()). Its values
    were scrubbed as they were set (logging_policy/redact.py).

    An oversized event keeps its core fields, or only the minimal ones if even those are too large (a
    huge path, say), and says so (`truncated`, `original_size_bytes`): logging_policy/redact.py.
    """
    line = _dumps(data)
    if len(line) <= settings.WIDE_EVENTS_MAX_BYTES:
        return line
    for fields in (CORE_FIELDS, MINIMAL_FIELDS):
        smaller = {k: data[k] for k in fields if k in data}
        smaller["truncated"] = True
        smaller["original_size_bytes"] = len(line)
        out = _dumps(smaller)
        if len(out) <= settings.WIDE_EVENTS_MAX_BYTES:
            return out
    return out  # the minimal fields are bounded; a limit below them is a misconfiguration


def event_emit(event: WideEvent) -> bool:
    """Decide, stamp and write `event` once. Returns whether it was written."""
    try:
        data = event.close()
        if data is None:
            return False
        policy = policy_current()
        RATES.advance()
        decision = decide(policy, data, RATES)
        operation = data["operation"]
        if decision.key:
            # After the decision: an event's keep probability depends only on the events before it.
            RATES.record(decision.key, budget_per_minute(policy, operation))
        counters_record(operation=operation, decision=decision)
        if not decision.keep:
            return False  # most events: nothing below is for them
        sampling: dict[str, Any] = {
            "reason": decision.reason,
            "rate": decision.rate,
            "sample_rate": decision.sample_rate,
            "policy_version": policy.version,
            "policy_source": policy.source,
        }
        if policy.degraded:
            event.note_warning("E501", f"sampling policy: {policy.degraded}")
        if policy.dry_run:
            sampling["dry_run"] = True
            sampling["would_keep"] = decision.would_keep
        if decision.key:
            sampling["key"] = decision.key
        data["sampling"] = sampling
        event.complete_kept()
        if logger.isEnabledFor(_INFO):
            _write(serialize(data))
        return True
    except Exception:  # noqa: BLE001 - the event must never break the work it describes
        _emit_failed()
        return False


_emit_failures = 0


def _emit_failed() -> None:
    """Say it with the traceback the first time and every REPORT_EVERY after: a handler that always
    raises would otherwise print a traceback per request."""
    global _emit_failures
    _emit_failures += 1
    if _emit_failures % _Quiet.REPORT_EVERY == 1:
        _internal.exception("E502 wide event could not be emitted (%d lost so far in this process)",
                            _emit_failures)


def _write(line: bytes) -> None:
    """Hand one line to the `wide_events` logger's handlers.

    Handlers whose class itself defines `write_line(line: bytes)` (ours, SafeStreamHandler and
    SafeFileHandler; a test's capture), with no formatter and no filter, take the bytes directly: a
    LogRecord, formatting and a text-layer write cost more than the rest of a kept event. A subclass
    that only inherits write_line may have changed emit(), so it goes through `logging`, as does any
    other configuration (a formatter, filters, propagation, a foreign handler).
    """
    handlers = logger.handlers
    direct = not (logger.propagate or logger.filters)
    for handler in handlers:  # a loop, not all(<generator>): this runs for every kept event
        if "write_line" not in type(handler).__dict__ or handler.formatter is not None or handler.filters:
            direct = False
            break
    if not direct:
        # makeRecord + handle: logger.info() would also walk the stack to find the caller.
        logger.handle(logger.makeRecord(logger.name, _INFO, __file__, 0, line.decode(), (), None))
        return
    for handler in handlers:
        if handler.level <= _INFO:
            handler.write_line(line)  # type: ignore[attr-defined]  # its class defines it: checked above


class _Quiet:
    """Handler mix-in: a failing sink drops the record instead of printing tracebacks per event.

    The loss is still said, on the console log (stderr), at the first failure and every
    REPORT_EVERY after it: a disk full must not make the events vanish unnoticed.
    """

    failures = 0
    REPORT_EVERY = 1000

    def handleError(self, record: logging.LogRecord | None) -> None:  # noqa: N802 - logging's API
        type(self).failures += 1
        if type(self).failures % self.REPORT_EVERY == 1:
            _internal.error("E502 event_sink_failed: %d wide events lost so far in this process",
                            type(self).failures)


class SafeStreamHandler(_Quiet, logging.StreamHandler):
    def write_line(self, line: bytes) -> None:
        """`line` and a newline, flushed; the bytes go to the binary buffer under a text stream if it has one."""
        with self.lock:  # type: ignore[union-attr]  # Handler.__init__ created it
            try:
                stream = self.stream
                buffer = getattr(stream, "buffer", None)
                if buffer is not None:
                    # The text layer holds nothing: logging's own path flushes it after every record.
                    buffer.write(line + b"\n")
                    buffer.flush()
                else:
                    stream.write(line.decode() + "\n")
                    stream.flush()
            except Exception:  # noqa: BLE001 - a broken sink costs the event, not the request
                self.handleError(None)


class SafeFileHandler(_Quiet, logging.handlers.WatchedFileHandler):
    """Reopens the file when logrotate moves it (checked at most once a second on the direct path)."""

    _checked_at = 0.0
    # A line whose write stopped part-way (a full disk): this handler's next line starts with a newline
    # of its own, so that the torn line does not take that event with it. Another process appending to
    # the same file (make run's web, worker and beat) may still land its next line on the torn one.
    _torn = False

    def write_line(self, line: bytes) -> None:
        with self.lock:  # type: ignore[union-attr]  # Handler.__init__ created it
            try:
                now = time.monotonic()
                # An os.stat per event costs more than the write; lines written in the second after a
                # rotation land at the end of the renamed file, which logrotate keeps.
                if now - self._checked_at >= 1.0 or self.stream is None:
                    self._checked_at = now
                    stream = self.stream
                    self.reopenIfNeeded()
                    if self.stream is None:
                        self.stream = self._open()
                    if self.stream is not stream:
                        self._torn = False  # a new file: nothing to end
                # Straight to the file (opened for append): a buffered write and flush cost a
                # copy and two more calls for the same single write(2). The stream's buffer is
                # empty: logging's own path flushes after every record.
                self._write_all(self.stream.fileno(), b"\n" + line + b"\n" if self._torn else line + b"\n")
            except Exception:  # noqa: BLE001 - a broken sink costs the event, not the request
                self.handleError(None)

    def _write_all(self, fd: int, data: bytes) -> None:
        written = os.write(fd, data)
        while written < len(data):  # rare on a file (a signal, a nearly full disk): write the rest
            self._torn = True
            data = data[written:]
            written = os.write(fd, data)
        self._torn = False

