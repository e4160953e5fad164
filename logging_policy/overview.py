"""The sampling overview page in the admin: what the policy keeps, per operation and reason.

Thin: reads the shared counters (logging_policy/counters.py) and renders them. Linked from
the policy page; open to whoever may view the policy.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from logging_policy.counters import FLUSH_EVERY, FLUSH_INTERVAL_S, Row, Window, counters_overview
from logging_policy.policy import policy_current


def _totals(rows: list[Row]) -> Row:
    def add(windows: list[Window]) -> Window:
        return Window(seen=sum(w.seen for w in windows), kept=sum(w.kept for w in windows),
                      would_keep=sum(w.would_keep for w in windows))

    return Row("all operations", "", add([r.hour for r in rows]), add([r.day for r in rows]))


def sampling_overview_view(request: HttpRequest, *, model_admin: admin.ModelAdmin, policy_pk: int | None
                           ) -> HttpResponse:
    if not model_admin.has_view_or_change_permission(request):
        raise PermissionDenied
    unavailable = ""
    try:
        rows = counters_overview()
    except Exception as exc:  # noqa: BLE001 - the page says the cache is away instead of failing
        rows, unavailable = [], f"The shared cache could not be read ({type(exc).__name__}); try again shortly."
    policy = policy_current()
    context: dict[str, Any] = {
        **model_admin.admin_site.each_context(request),
        "title": "Sampling overview",
        "opts": model_admin.model._meta,
        "rows": rows,
        "total": _totals(rows) if rows else None,
        "policy": policy,
        "policy_pk": policy_pk,
        "unavailable": unavailable,
        "flush_every": FLUSH_EVERY,
        "flush_interval_s": f"{FLUSH_INTERVAL_S:g}",
    }
    return TemplateResponse(request, "admin/logging_policy/sampling_overview.html", context)
