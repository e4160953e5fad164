"""A wide event as one short line for a person at a terminal: `manage.py events`. Pure.

The JSON line holds everything (about 2 KB); this shows what one looks for first: when, what,
how it ended, how long it took, why sampling kept it, and the few ids and facts that matter.
"""

from __future__ import annotations

from typing import Any

from logging_policy.vocabulary import vocabulary

# (namespace, field, label) shown when present, in this order, the apps' own (vocabulary.py) in between.
FIRST_FIELDS = (("vehicle", "id", "vehicle"),)
LAST_FIELDS = (("error", "code", "error"), ("task", "name", "task"))


def event_status(event: dict[str, Any]) -> str:
    """The HTTP status, or ok/FAILED for a task or a call."""
    status = (event.get("http") or {}).get("status_code")
    if status is not None:
        return str(status)
    return "ok" if event.get("success", True) else "FAILED"


def event_line(event: dict[str, Any]) -> str:
    """`13:05:02.123 telemetry_upload 200 12.3ms kept=operation_rate vehicle=1 trip=5 upload=stored`."""
    stamp = str(event.get("timestamp", ""))
    clock = stamp[11:23] if len(stamp) >= 23 else stamp
    duration = event.get("duration_ms")
    parts = [clock, str(event.get("operation", "?")), event_status(event),
             f"{duration:.1f}ms" if isinstance(duration, (int, float)) else "-",
             f"kept={(event.get('sampling') or {}).get('reason', '?')}"]
    for namespace, field, label in (*FIRST_FIELDS, *vocabulary().summary_fields, *LAST_FIELDS):
        value = (event.get(namespace) or {}).get(field)
        if value not in (None, ""):
            parts.append(f"{label}={value}")
    facts = [name for name, value in (event.get("business") or {}).items() if value is True]
    if facts:
        parts.append("+" + ",".join(facts))
    return " ".join(parts)
