"""The event explorer in the admin: /admin/logging_policy/explore/ (and /<slug>/ for a saved query).

Thin: the form (or a saved query) becomes a definition, then a Query (explore_definition.py), run on
the configured store (explore_run.py). `?format=json` answers the same as JSON; `&raw=1&group=[...]`
the events behind one group. Staff with the view permission on saved queries (or on the sampling
policy) only. A refused query answers E007 with its reason.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import duckdb
import orjson
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from logging_policy.explore_definition import (
    FORM_FILTERS, POLICY_VALUES, definition_from_form, definition_parameters, definition_to_form,
    query_from_definition,
)
from logging_policy.explore_query import AGGREGATES, OPERATORS, Query, QueryRefusedError
from logging_policy.explore_run import explore_raw, explore_run, store_open
from logging_policy.models import SavedQuery
from logging_policy.policy import policy_current
from logging_policy.current import current_event
from logging_policy.responses import error_response

DEFAULT_DEFINITION: dict[str, Any] = {"days": 1, "filters": [], "group_by": ["operation"], "aggregate": "COUNT"}


def can_explore(request: HttpRequest) -> bool:
    """The explorer shows whole events of every vehicle and request: those who may see the logging
    policy (its overview shows the same traffic) may; viewing saved queries' definitions is not enough."""
    user = request.user
    return bool(user.is_active and user.is_staff and (
        user.has_perm("logging_policy.view_loggingpolicy")
        or user.has_perm("logging_policy.change_sampling_policy")))


def _query(definition: dict[str, Any], request: HttpRequest) -> Query:
    policy = policy_current()
    return query_from_definition(
        definition, params=request.GET, policy={name: getattr(policy, name) for name in POLICY_VALUES},
        now=datetime.now(UTC), retention_days=settings.EVENTS_RETENTION_DAYS, limit=settings.EXPLORER_MAX_GROUPS)


def _answer(query: Query, request: HttpRequest) -> dict[str, Any]:
    with store_open(query, settings) as store:
        if request.GET.get("raw"):
            try:
                group = tuple(orjson.loads(request.GET.get("group") or "[]"))
                bucket = request.GET.get("bucket")
                span = (int(bucket), int(bucket) + int(request.GET["bucket_s"])) if bucket else None
            except (orjson.JSONDecodeError, TypeError, ValueError, KeyError):
                raise QueryRefusedError("group is a JSON list of the group's values; bucket and bucket_s are "
                                   "whole seconds.") from None
            if len(group) != len(query.group_by):
                raise QueryRefusedError(f"group needs {len(query.group_by)} value(s), one per group-by field.")
            return {"events": explore_raw(query, store, group, span)}
        return asdict(explore_run(query, store))


def explore_view(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    if not can_explore(request):
        raise PermissionDenied
    saved = get_object_or_404(SavedQuery, slug=slug) if slug else None
    as_json = request.GET.get("format") == "json"
    definition: dict[str, Any] = saved.definition if saved else DEFAULT_DEFINITION
    answer: dict[str, Any] | None = None
    refused = ""
    try:
        if not saved and "aggregate" in request.GET:
            definition = definition_from_form(request.GET)
        answer = _answer(_query(definition, request), request)
    except QueryRefusedError as exc:
        refused = str(exc)
    except (duckdb.Error, OverflowError) as exc:
        # What the checks let through but the engine refuses (a comparison it cannot bind, a date out of
        # its range): the query's fault, said as such, not a server fault.
        first_line = (str(exc).splitlines() or [type(exc).__name__])[0]
        refused = f"The store could not run this query: {first_line[:200]}"
    if as_json:
        return error_response("E007", refused) if refused else JsonResponse(answer, json_dumps_params={"default": str})
    if refused:  # the page answers 400 with the form; its event says why, as the JSON answer's does
        current_event().add_error("E007", refused)
    form = definition_to_form(definition)
    context = {
        **admin.site.each_context(request),
        "title": saved.title if saved else "Event explorer",
        "opts": SavedQuery._meta,
        "saved": saved,
        "saved_queries": SavedQuery.objects.all(),
        "parameters": [(name, request.GET.get(name, "")) for name in definition_parameters(definition)],
        "form": form,
        "filter_rows": [(i, form.get(f"f{i}_field", ""), form.get(f"f{i}_op", "="), form.get(f"f{i}_value", ""))
                        for i in range(FORM_FILTERS)],
        "operators": OPERATORS,
        "aggregates": AGGREGATES,
        "answer": answer,
        "rows": [_display(row) for row in (answer or {}).get("rows", [])],
        "refused": refused,
        "save_url": reverse("admin:logging_policy_savedquery_add") + "?" + urlencode(
            {"definition": orjson.dumps(definition).decode()}),
        "retention_days": settings.EVENTS_RETENTION_DAYS,
        "engine": "ClickHouse" if settings.EVENTS_STORE_URL else "the embedded Parquet store (DuckDB)",
    }
    return TemplateResponse(request, "admin/logging_policy/explore.html", context, status=400 if refused else 200)



def _display(row: dict[str, Any]) -> dict[str, Any]:
    """A row as the table shows it: the group's values as JSON (for its raw events), percentages."""
    shown = dict(row)
    shown["group_json"] = orjson.dumps(list(row["group"].values()), default=str).decode()
    shown["rse_pct"] = f"± {row['count_rse'] * 100:.1f} %"
    if row.get("rate") is not None:
        shown["rate_pct"] = f"{row['rate'] * 100:.2f} %"
    return shown
