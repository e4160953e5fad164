"""The sampling overview page in the admin: what the policy keeps, per operation and reason, and per key.

Thin: reads the shared counters (logging_policy/counters.py) and renders them. Linked from
the policy page; open to whoever may view the policy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from logging_policy.counters import (
    FLUSH_EVERY,
    FLUSH_INTERVAL_S,
    Row,
    Window,
    counters_key_rows,
    counters_overview,
)
from logging_policy.key_counts import KeyRow, rows_grouped
from logging_policy.payload import Payload, snapshot_from_payload
from logging_policy.policy import policy_current
from logging_policy.sampling import budget_per_minute


def _totals(rows: list[Row]) -> Row:
    def add(windows: list[Window]) -> Window:
        return Window(seen=sum(w.seen for w in windows), kept=sum(w.kept for w in windows),
                      would_keep=sum(w.would_keep for w in windows))

    return Row("all operations", "", add([r.hour for r in rows]), add([r.day for r in rows]))


def projected_kept_per_day(*, kept_last_hour: int, keys: list[KeyRow], budget: Callable[[str], int]) -> int:
    """Kept events a day at the last hour's pace, each key's kept count cut to its `budget` a minute.

    Pure. The budget is per process: with N processes busy on one key, up to N times as many.
    """
    cut = sum(max(row.kept - budget(row.operation) * 60, 0) for row in keys)
    return max(kept_last_hour - cut, 0) * 24


def projected_summary(*, policy: Payload) -> str:
    """The policy page's line: projected kept events a day under `policy` (the one being edited)."""
    try:
        rows, keys = counters_overview(), counters_key_rows()
    except Exception as exc:  # noqa: BLE001 - the page says the cache is away instead of failing
        return f"Unknown: the shared cache could not be read ({type(exc).__name__})."
    snapshot = snapshot_from_payload(policy, source="database")
    kept = sum(row.hour.kept for row in rows)
    per_day = projected_kept_per_day(kept_last_hour=kept, keys=keys,
                                     budget=lambda operation: budget_per_minute(snapshot, operation))
    return f"{per_day:,} (last hour: {kept:,} kept, with this policy's budgets applied to each key, times 24)"


def sampling_overview_view(request: HttpRequest, *, model_admin: admin.ModelAdmin, policy_pk: int | None
                           ) -> HttpResponse:
    if not model_admin.has_view_or_change_permission(request):
        raise PermissionDenied
    unavailable = ""
    keys: list[KeyRow] = []
    try:
        rows, keys = counters_overview(), counters_key_rows()
    except Exception as exc:  # noqa: BLE001 - the page says the cache is away instead of failing
        rows, unavailable = [], f"The shared cache could not be read ({type(exc).__name__}); try again shortly."
    policy = policy_current()
    context: dict[str, Any] = {
        **model_admin.admin_site.each_context(request),
        "title": "Sampling overview",
        "opts": model_admin.model._meta,
        "rows": rows,
        "total": _totals(rows) if rows else None,
        "key_groups": rows_grouped(keys),
        "policy": policy,
        "policy_pk": policy_pk,
        "unavailable": unavailable,
        "flush_every": FLUSH_EVERY,
        "flush_interval_s": f"{FLUSH_INTERVAL_S:g}",
    }
    return TemplateResponse(request, "admin/logging_policy/sampling_overview.html", context)
