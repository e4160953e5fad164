"""A query as data: the JSON a saved query stores and the explorer's form sends, made into a `Query`.

    {"days": 30, "filters": [{"field": "telemetry.session", "op": "=", "value": "$session"}],
     "group_by": ["error.code"], "aggregate": "COUNT", "field": null,
     "rate": {"field": "success", "op": "=", "value": false}}

A value `$name` is a parameter, given as the query parameter `name`; `$policy.<setting>` is the
sampling policy's value of that setting (so "new vehicle" follows the policy's threshold). Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from logging_policy.explore_query import AGGREGATES, MAX_GROUP_BY, OPERATORS, Filter, Query, QueryRefusedError, field_check

POLICY_VALUES = ("new_vehicle_days", "default_slow_threshold_ms", "heavy_min_trips", "moderate_min_trips")
FORM_FILTERS = 5


def _filters(data: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(data, list) or not all(isinstance(f, dict) for f in data):
        raise QueryRefusedError(f"{what} is a list of {{field, op, value}} objects.")
    return data


def definition_check(definition: Any) -> dict[str, Any]:
    """`definition` if well formed (field paths, operators, aggregate, parameters); else QueryRefusedError."""
    if not isinstance(definition, dict):
        raise QueryRefusedError("A query definition is a JSON object.")
    unknown = set(definition) - {"days", "filters", "group_by", "aggregate", "field", "rate"}
    if unknown:
        raise QueryRefusedError(f"Unknown key(s) in the definition: {', '.join(sorted(unknown))}.")
    days = definition.get("days")
    if days is not None and (not isinstance(days, (int, float)) or isinstance(days, bool) or days <= 0):
        raise QueryRefusedError("days is a positive number of days, or null for the whole retention.")
    filters = _filters(definition.get("filters", []), "filters")
    rate = definition.get("rate")
    for f in [*filters, *([rate] if rate is not None else [])]:
        if not isinstance(f, dict):
            raise QueryRefusedError("rate is one {field, op, value} object.")
        field_check(f.get("field", ""))
        if f.get("op") not in OPERATORS:
            raise QueryRefusedError(f"Unknown operator {str(f.get('op'))[:20]!r}; known: {', '.join(OPERATORS)}.")
        value = f.get("value")
        if isinstance(value, str) and value.startswith("$policy.") and value[8:] not in POLICY_VALUES:
            raise QueryRefusedError(f"{value[:40]} is not a policy value; known: {', '.join(POLICY_VALUES)}.")
    group_by = definition.get("group_by", [])
    if not isinstance(group_by, list) or len(group_by) > MAX_GROUP_BY:
        raise QueryRefusedError(f"group_by is a list of at most {MAX_GROUP_BY} field paths.")
    for path in group_by:
        field_check(path)
    if definition.get("aggregate", "COUNT") not in AGGREGATES:
        raise QueryRefusedError(f"Unknown aggregate; known: {', '.join(AGGREGATES)}.")
    if definition.get("field") is not None:
        field_check(definition["field"])
    return definition


def definition_parameters(definition: dict[str, Any]) -> list[str]:
    """The `$name` parameters a definition needs, in order of first use."""
    names: list[str] = []
    for f in [*definition.get("filters", []), *([definition["rate"]] if definition.get("rate") else [])]:
        value = f.get("value")
        if isinstance(value, str) and value.startswith("$") and not value.startswith("$policy."):
            if value[1:] not in names:
                names.append(value[1:])
    return names


def _resolve(value: Any, params: Mapping[str, str], policy: Mapping[str, Any]) -> Any:
    if not isinstance(value, str) or not value.startswith("$"):
        return value
    if value.startswith("$policy."):
        return policy[value[8:]]
    name = value[1:]
    if not params.get(name):
        raise QueryRefusedError(f"This query needs the parameter {name!r} (add ?{name}=... to the address).")
    return params[name]


def _moment(text: str, what: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise QueryRefusedError(f"{what} is a date and time (2026-05-04T12:00), not {text[:40]!r}.") from None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def query_from_definition(definition: dict[str, Any], *, params: Mapping[str, str], policy: Mapping[str, Any],
                          now: datetime, retention_days: float, limit: int) -> Query:
    """The Query of `definition` with its parameters filled in; `start`/`end` in `params` override `days`."""
    definition_check(definition)
    days = min(float(definition.get("days") or retention_days), retention_days)
    end = _moment(params["end"], "end") if params.get("end") else now + timedelta(minutes=1)
    start = _moment(params["start"], "start") if params.get("start") else end - timedelta(days=days)

    def make(f: dict[str, Any]) -> Filter:
        return Filter(field=f["field"], op=f["op"], value=_resolve(f.get("value"), params, policy))

    rate = definition.get("rate")
    return Query(start=start, end=end, filters=tuple(make(f) for f in definition.get("filters", [])),
                 group_by=tuple(definition.get("group_by", [])), aggregate=definition.get("aggregate", "COUNT"),
                 field=definition.get("field") or None, rate=make(rate) if rate else None, limit=limit)


def definition_from_form(params: Mapping[str, Any]) -> dict[str, Any]:
    """The definition the explorer's form describes: `days`, `f<i>_field/_op/_value` (i < FORM_FILTERS),
    `group_by` (comma-separated), `aggregate`, `field`, `rate_field/_op/_value`."""
    filters = []
    for i in range(FORM_FILTERS):
        path = (params.get(f"f{i}_field") or "").strip()
        if path:
            filters.append({"field": path, "op": params.get(f"f{i}_op") or "=", "value": params.get(f"f{i}_value")})
    definition: dict[str, Any] = {
        "filters": filters,
        "group_by": [g.strip() for g in (params.get("group_by") or "").split(",") if g.strip()],
        "aggregate": (params.get("aggregate") or "COUNT").upper(),
        "field": (params.get("field") or "").strip() or None,
    }
    if params.get("days"):
        try:
            definition["days"] = float(params["days"])
        except ValueError:
            raise QueryRefusedError("days is a number of days.") from None
    if (params.get("rate_field") or "").strip():
        definition["rate"] = {"field": params["rate_field"].strip(), "op": params.get("rate_op") or "=",
                              "value": params.get("rate_value")}
    return definition_check(definition)


def definition_to_form(definition: dict[str, Any]) -> dict[str, Any]:
    """The form's initial values for `definition` (the page shows a saved query as an editable form)."""
    form: dict[str, Any] = {"group_by": ", ".join(definition.get("group_by", [])),
                            "aggregate": definition.get("aggregate", "COUNT"), "field": definition.get("field") or "",
                            "days": definition.get("days") or ""}
    for i, f in enumerate(definition.get("filters", [])[:FORM_FILTERS]):
        value = f.get("value")
        form.update({f"f{i}_field": f["field"], f"f{i}_op": f["op"],
                     f"f{i}_value": "" if value is None else str(value).lower() if isinstance(value, bool) else value})
    if rate := definition.get("rate"):
        value = rate.get("value")
        form.update({"rate_field": rate["field"], "rate_op": rate["op"],
                     "rate_value": "" if value is None else str(value).lower() if isinstance(value, bool) else value})
    return form
