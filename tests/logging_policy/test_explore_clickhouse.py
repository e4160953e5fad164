"""The ClickHouse dialect on chdb (ClickHouse's engine in-process): the same answers as the embedded store.

No ClickHouse server can be installed on these machines; chdb runs the same SQL engine, and the table is
the one deploy/clickhouse/init.sql creates.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from logging_policy.clickhouse_schema import clickhouse_table_ddl
from logging_policy.event_rows import lines_parse
from logging_policy.explore_query import Filter, Query, QueryRefusedError
from logging_policy.explore_run import ClickHouseStore, DuckDBStore, explore_raw, explore_run
from tests.logging_policy.test_explore_query import END, EVENTS, START, store  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "docs" / "events.schema.json").read_text())


@pytest.fixture
def clickhouse() -> Iterator[ClickHouseStore]:
    from chdb import session

    chdb = session.Session()

    def run(sql: str) -> list[tuple[Any, ...]]:
        text = str(chdb.query(sql, "JSONCompact"))
        return [tuple(r) for r in orjson.loads(text)["data"]] if text.strip() else []

    run("CREATE DATABASE IF NOT EXISTS explorer")
    run("USE explorer")
    run(clickhouse_table_ddl(SCHEMA).replace("wide_events", "explorer.wide_events"))
    rows = lines_parse([orjson.dumps(e) for e in EVENTS]).rows
    data = b"\n".join(orjson.dumps({k: v for k, v in r.items() if k != "_hour"}) for r in rows).decode()
    run("INSERT INTO explorer.wide_events SETTINGS input_format_skip_unknown_fields = 1, "
        f"date_time_input_format = 'best_effort' FORMAT JSONEachRow\n{data}")
    yield ClickHouseStore(run, table="explorer.wide_events", time_limit_s=5)
    chdb.close()


def test_the_init_sql_is_the_table_the_code_describes() -> None:
    assert (ROOT / "deploy" / "clickhouse" / "init.sql").read_text() == clickhouse_table_ddl(SCHEMA)


QUERIES = [
    Query(start=START, end=END, filters=(Filter("operation", "=", "telemetry_upload"),)),
    Query(start=START, end=END, group_by=("deployment.environment", "success"), aggregate="MAX", field="duration_ms"),
    Query(start=START, end=END, filters=(Filter("duration_ms", "<", 41),), aggregate="P50", field="duration_ms"),
    Query(start=START, end=END, filters=(Filter("operation", "=", "telemetry_upload"),), aggregate="AVG",
          field="duration_ms"),
    Query(start=START, end=END, filters=(Filter("error.code", "exists"), Filter("operation", "contains", "weather"))),
    Query(start=START, end=END, filters=(Filter("telemetry.session", "=", "o'brien"),), group_by=("error.code",)),
    Query(start=START, end=END, group_by=("deployment.environment",), rate=Filter("success", "=", False)),
    Query(start=START, end=END, filters=(Filter("timings_ms.trip_compute", ">", 10),), aggregate="SUM",
          field="timings_ms.trip_compute"),
    Query(start=START, end=END, filters=(Filter("operation", "=", "' OR 1=1 --"),)),
]


@pytest.mark.parametrize("query", QUERIES, ids=range(len(QUERIES)))
def test_clickhouse_answers_as_duckdb(query: Query, clickhouse: ClickHouseStore, store: DuckDBStore) -> None:
    duck, house = explore_run(query, store), explore_run(query, clickhouse)
    assert len(house.rows) == len(duck.rows)
    for ours, theirs in zip(house.rows, duck.rows, strict=True):
        assert ours["group"] == theirs["group"] and ours["events"] == theirs["events"]
        for measure in ("count", "count_rse", "value", "rate"):
            assert ours.get(measure) == pytest.approx(theirs.get(measure)), measure
    assert house.events_scanned == duck.events_scanned == len(EVENTS)
    assert house.series["buckets"] == duck.series["buckets"]


def test_raw_events_and_refusals_on_clickhouse(clickhouse: ClickHouseStore) -> None:
    query = Query(start=START, end=END, group_by=("success",))
    assert [e["request_id"] for e in explore_raw(query, clickhouse, (False,))] == ["r50", "r51"]
    with pytest.raises(QueryRefusedError, match="is not a field path"):
        explore_run(Query(start=START, end=END, group_by=("x`; DROP TABLE wide_events --",)), clickhouse)
