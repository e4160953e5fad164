"""The query builder on the embedded store: operators, groups, aggregates, weights, limits, injection."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest

from logging_policy.event_loader import events_load
from logging_policy.event_store import sql_text
from logging_policy.explore_definition import definition_from_form, query_from_definition
from logging_policy.explore_query import Filter, Query, QueryRefusedError
from logging_policy.explore_run import DuckDBStore, explore_raw, explore_run

NOW = datetime.now(UTC).replace(microsecond=0)
START, END = NOW - timedelta(days=1), NOW + timedelta(minutes=1)


def event(n: int, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "timestamp": (NOW - timedelta(minutes=n)).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "operation": "telemetry_upload", "kind": "http", "request_id": f"r{n}", "success": True,
        "duration_ms": float(n), "deployment": {"environment": "production", "id": "blue"},
        "sampling": {"rate": 0.25, "sample_rate": 4.0}, "vehicle": {"id": n % 3, "usage_tier": "light"},
    }
    for key, value in fields.items():
        base[key] = {**base[key], **value} if isinstance(value, dict) and key in base else value
    return base


EVENTS = [
    *(event(n) for n in range(1, 41)),  # 40 uploads kept at 25 %: each stands for 4
    event(50, success=False, error={"code": "E100", "message": "it's \\ slow"},
          sampling={"rate": 1.0, "sample_rate": 1.0}, operation="external_api.weather"),
    event(51, success=False, error={"code": "E300"}, deployment={"environment": "staging"},
          sampling={"rate": 1.0, "sample_rate": 1.0}, telemetry={"session": "o'brien"}),
    event(52, operation="trip_finalize", duration_ms=2500.0, timings_ms={"trip_compute": 12.5},
          sampling={"rate": 1.0, "sample_rate": 1.0}),
]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBStore]:
    log = tmp_path / "events.jsonl"
    head, tail = EVENTS[:-5], EVENTS[-5:]
    log.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in head))
    events_load(log=log, store=tmp_path / "store", retention_days=30)
    with log.open("ab") as out:  # not loaded yet: read from the log's tail
        out.write(b"".join(orjson.dumps(e) + b"\n" for e in tail))
    opened = DuckDBStore(store_dir=tmp_path / "store", log=log, tail_max_bytes=1 << 20, time_limit_s=5)
    yield opened
    opened.close()


def run(store: DuckDBStore, *filters: Filter, **kwargs: Any) -> list[dict[str, Any]]:
    return explore_run(Query(start=START, end=END, filters=filters, **kwargs), store).rows


def test_weighted_counts_carry_the_horvitz_thompson_error(store: DuckDBStore) -> None:
    [row] = run(store, Filter("operation", "=", "telemetry_upload"))
    assert row["events"] == 41 and row["count"] == 40 * 4 + 1
    expected = math.sqrt(40 * (1 - 0.25) / 0.25**2) / 161  # the error event (p = 1) adds no variance
    assert row["count_rse"] == pytest.approx(expected)


def test_each_operator(store: DuckDBStore) -> None:
    def events(*filters: Filter) -> int:
        return sum(r["events"] for r in run(store, *filters))

    assert events(Filter("success", "=", "false")) == 2
    assert events(Filter("success", "!=", False)) == 41
    assert events(Filter("duration_ms", ">", "39")) == 4  # 40, 50, 51, 52
    assert events(Filter("duration_ms", "<", 3)) == 2
    assert events(Filter("operation", "contains", "weather")) == 1
    assert events(Filter("error.code", "exists")) == 2
    assert events(Filter("timings_ms.trip_compute", "exists")) == 1  # only in the unloaded tail
    assert events(Filter("telemetry.session", "=", "o'brien")) == 1
    assert events(Filter("no.such_field", "exists")) == 0
    assert events(Filter("no.such_field", "!=", "x")) == 43


def test_group_by_and_aggregates(store: DuckDBStore) -> None:
    rows = run(store, group_by=("deployment.environment", "success"), aggregate="MAX", field="duration_ms")
    assert [(r["group"], r["events"], r["value"]) for r in rows] == [
        ({"deployment.environment": "production", "success": True}, 41, 2500.0),
        ({"deployment.environment": "production", "success": False}, 1, 50.0),
        ({"deployment.environment": "staging", "success": False}, 1, 51.0),
    ]
    upload = Filter("operation", "=", "telemetry_upload")
    [avg] = run(store, upload, aggregate="AVG", field="duration_ms")
    assert avg["value"] == pytest.approx((sum(range(1, 41)) * 4 + 51) / 161)
    [total] = run(store, upload, aggregate="SUM", field="duration_ms")
    assert total["value"] == pytest.approx(sum(range(1, 41)) * 4 + 51)
    [p50] = run(store, Filter("duration_ms", "<", 41), aggregate="P50", field="duration_ms")
    assert p50["value"] == pytest.approx(20.5)
    [rate] = run(store, group_by=("deployment.environment",), rate=Filter("success", "=", False),
                 aggregate="COUNT")[:1]
    assert rate["rate"] == pytest.approx(1 / 162)


def test_raw_events_behind_a_group_are_newest_first(store: DuckDBStore) -> None:
    query = Query(start=START, end=END, group_by=("success",))
    events = explore_raw(query, store, (False,))
    assert [e["request_id"] for e in events] == ["r50", "r51"]
    assert events[0]["error"]["message"] == "it's \\ slow"


@pytest.mark.parametrize("path", ['error.code" OR 1=1 --', "x;DROP TABLE events", "_raw", "a..b", "", "é"])
def test_a_field_path_that_is_not_one_is_refused(store: DuckDBStore, path: str) -> None:
    with pytest.raises(QueryRefusedError, match="is not a field path"):
        run(store, Filter(path, "exists"))
    with pytest.raises(QueryRefusedError, match="is not a field path"):
        run(store, group_by=(path,))


@pytest.mark.parametrize("value", ["' OR 1=1 --", "x' UNION SELECT _raw FROM events --", "\\' OR TRUE --"])
def test_values_are_literals_whatever_they_hold(store: DuckDBStore, value: str) -> None:
    assert run(store, Filter("operation", "=", value)) == []
    assert run(store, Filter("operation", "contains", value)) == []


def test_refusals_say_what_is_wrong(store: DuckDBStore) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"group_by": ("a", "b", "c", "d")}, "Group by at most 3 fields"),
        ({"aggregate": "P95"}, "P95 needs a numeric field"),
        ({"aggregate": "SUM", "field": "operation"}, "needs a numeric field; operation holds text"),
        ({"filters": (Filter("duration_ms", ">", "fast"),)}, "needs a number"),
        ({"filters": (Filter("operation", "like", "x"),)}, "Unknown operator"),
    ]
    for kwargs, message in cases:
        with pytest.raises(QueryRefusedError, match=message):
            explore_run(Query(start=START, end=END, **kwargs), store)


def test_the_group_limit_cuts_with_a_message(store: DuckDBStore) -> None:
    answer = explore_run(Query(start=START, end=END, group_by=("request_id",), limit=10), store)
    assert len(answer.rows) == 10 and answer.limited.startswith("More than 10 groups")
    assert answer.events_scanned == 43 and answer.tail_events == 5


def test_the_time_limit_stops_a_query_with_a_message(store: DuckDBStore) -> None:
    store.time_limit_s = 0.3
    store.con.execute('CREATE OR REPLACE TEMP VIEW events AS SELECT TIMESTAMP \'2026-01-01\' + INTERVAL (i % 1000) '
                      'SECOND AS "timestamp", i::VARCHAR AS request_id, 1.0 AS "sampling.sample_rate" '
                      "FROM range(3000000000) t(i)")
    query = Query(start=datetime(2025, 1, 1, tzinfo=UTC), end=END, group_by=("request_id",))
    with pytest.raises(QueryRefusedError, match=r"ran past the time limit \(0.3 s\)"):
        explore_run(query, store)


def test_form_parameters_and_policy_values_fill_a_definition() -> None:
    definition = definition_from_form({"f0_field": "telemetry.session", "f0_op": "=", "f0_value": "$session",
                                       "f1_field": "vehicle.account_age_days", "f1_op": "<",
                                       "f1_value": "$policy.new_vehicle_days", "group_by": "error.code, operation",
                                       "days": "7"})
    query = query_from_definition(definition, params={"session": "s-1"}, policy={"new_vehicle_days": 30},
                                  now=NOW, retention_days=30, limit=100)
    assert query.filters == (Filter("telemetry.session", "=", "s-1"), Filter("vehicle.account_age_days", "<", 30))
    assert query.group_by == ("error.code", "operation") and query.end - query.start == timedelta(days=7)
    with pytest.raises(QueryRefusedError, match="needs the parameter 'session'"):
        query_from_definition(definition, params={}, policy={"new_vehicle_days": 30}, now=NOW, retention_days=30,
                              limit=100)


def test_a_backslash_is_literal_in_duckdb_and_escaped_for_clickhouse() -> None:
    value = "C:\\temp\\it's"
    assert duckdb.connect().execute(f"SELECT {sql_text(value)}").fetchall() == [(value,)]
    assert sql_text(value, clickhouse=True) == "'C:\\\\temp\\\\it''s'"
