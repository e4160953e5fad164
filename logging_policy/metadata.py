"""Service and deployment metadata: computed once per process, stamped on every event."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime
from functools import cache
from typing import Any

from django.conf import settings

# The keys of static_fields_shared(): the table's PROCESS fields.
from logging_policy.redact import STATIC_NAMESPACES as STATIC_NAMESPACES

_PROCESS_STARTED = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@cache
def _static_fields() -> dict[str, dict[str, Any]]:
    return {
        "service": {
            "name": settings.SERVICE_NAME,
            "version": settings.APP_VERSION,
            "instance_id": f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}",
        },
        "deployment": {
            "id": settings.DEPLOYMENT_ID,
            "environment": settings.ENVIRONMENT,
            "region": settings.REGION,
            "deployed_at": settings.DEPLOYMENT_TIMESTAMP or _PROCESS_STARTED,
        },
        "feature_flags": dict(settings.FEATURE_FLAGS),
    }


def static_fields() -> dict[str, dict[str, Any]]:
    """Fresh copies of the per-process namespaces (events may add to them)."""
    return {name: dict(values) for name, values in _static_fields().items()}


def static_fields_shared() -> dict[str, dict[str, Any]]:
    """The per-process namespaces themselves, not copies: read-only (a `WideEvent` given them as `shared` copies one before writing to it)."""
    return _static_fields()


def reset_after_fork() -> None:
    """A forked worker is a new instance: give it its own instance_id."""
    _static_fields.cache_clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=reset_after_fork)
