"""Running an explorer query on a store: the embedded Parquet store (DuckDB) or ClickHouse.

A store gives the builder (explore_query.py) its dialect, its columns and a way to fetch rows; this
module bounds the cost (group limit, time limit) and shapes the answer the page and the JSON share.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import duckdb
import orjson

from logging_policy.event_loader import log_tail
from logging_policy.event_rows import HOUR, RAW
from logging_policy.event_store import rows_table, sql_text, store_parts
from logging_policy.explore_query import (
    CLICKHOUSE, DUCKDB, SERIES_GROUPS, Builder, Dialect, Query, QueryRefusedError, Value, bucket_seconds, column_kind,
)


class Store(Protocol):
    dialect: Dialect
    source: str

    def columns(self) -> dict[str, str]: ...

    def fetch(self, sql: str) -> list[tuple[Any, ...]]: ...

    def matched(self, sql: str) -> str:
        """A relation of the rows of `sql` (Builder.matched_sql) that the groups and series read."""
        ...

    def close(self) -> None: ...


@dataclass(slots=True)
class Answer:
    rows: list[dict[str, Any]]
    series: dict[str, Any]
    events_scanned: int
    events_matched: int
    limited: str = ""  # said when the group limit cut the answer
    seconds: float = 0.0
    engine: str = ""
    tail_events: int = 0
    tail_malformed: int = 0


class DuckDBStore:
    """The Parquet files of the query's hours plus the log's tail not yet loaded, as one view `events`."""

    dialect = DUCKDB
    source = "events"

    def __init__(self, *, store_dir: Path, log: Path | None, tail_max_bytes: int, time_limit_s: float,
                 hour_from: str | None = None, hour_to: str | None = None) -> None:
        self.time_limit_s = time_limit_s
        self.con = duckdb.connect()
        self.con.execute("SET threads = 2")
        manifest, files = store_parts(store_dir, hour_from=hour_from, hour_to=hour_to)
        self.tail_events = self.tail_malformed = 0
        selects = []
        if files:
            names = "[" + ", ".join(sql_text(str(f)) for f in files) + "]"
            selects.append(f"SELECT * FROM read_parquet({names}, union_by_name = true)")
        if log is not None:
            tail = log_tail(log=log, source=manifest.source, max_bytes=tail_max_bytes)
            self.tail_events, self.tail_malformed = len(tail.rows), tail.malformed
            if tail.rows:
                rows_table(self.con, "tail", tail.rows, Path(store_dir) if Path(store_dir).is_dir() else log.parent)
                selects.append(f'SELECT * EXCLUDE ("{HOUR}") FROM tail')
        if not selects:
            selects.append(f'SELECT NULL::TIMESTAMP AS "timestamp", NULL::VARCHAR AS "{RAW}" WHERE false')
        self.con.execute(f"CREATE TEMP VIEW events AS {' UNION ALL BY NAME '.join(selects)}")

    def columns(self) -> dict[str, str]:
        return {name: column_kind(kind) for name, kind, *_ in self.con.execute("DESCRIBE events").fetchall()}

    def matched(self, sql: str) -> str:
        """Scanned once into a temporary table that groups and series then read (measured faster than
        scanning twice even when every event matches: docs/benchmarks.md)."""
        self.fetch(f"CREATE OR REPLACE TEMP TABLE matched AS {sql}")
        return "matched"

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        # One clock for the whole query would be fairer; per statement keeps it simple (3 at most).
        timer = threading.Timer(self.time_limit_s, self.con.interrupt)
        timer.start()
        try:
            return self.con.execute(sql).fetchall()
        except duckdb.InterruptException:
            raise QueryRefusedError(f"The query ran past the time limit ({self.time_limit_s:g} s): narrow the time "
                               "range or add filters.") from None
        finally:
            timer.cancel()

    def close(self) -> None:
        self.con.close()


class ClickHouseStore:
    """A ClickHouse table of flattened events (one column per field path, `_raw`), reached through
    `run(sql) -> rows`: ClickHouse's HTTP interface in production, chdb in the tests."""

    dialect = CLICKHOUSE

    def __init__(self, run: Callable[[str], list[tuple[Any, ...]]], *, table: str, time_limit_s: float) -> None:
        self.run, self.source, self.time_limit_s = run, table, time_limit_s
        self.tail_events = self.tail_malformed = 0

    def columns(self) -> dict[str, str]:
        return {row[0]: column_kind(row[1]) for row in self.run(f"DESCRIBE TABLE {self.source}")}

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        try:
            return self.run(f"{sql} SETTINGS max_execution_time = {self.time_limit_s:g}")
        except Exception as exc:
            if "TIMEOUT_EXCEEDED" in str(exc) or "Timeout exceeded" in str(exc):
                raise QueryRefusedError(f"The query ran past the time limit ({self.time_limit_s:g} s): narrow the time "
                                   "range or add filters.") from None
            raise

    def matched(self, sql: str) -> str:
        return f"({sql}) AS m"  # no session over HTTP for a temporary table: ClickHouse scans twice

    def close(self) -> None:
        pass


def clickhouse_http(url: str) -> Callable[[str], list[tuple[Any, ...]]]:
    """`run` for ClickHouse's HTTP interface: `clickhouse://user:password@host:8123/database`."""
    import httpx  # noqa: PLC0415 - only with EVENTS_STORE_URL

    parts = httpx.URL(url.replace("clickhouse://", "http://", 1))
    database = parts.path.strip("/") or "default"
    base = parts.copy_with(path="/", username=None, password=None)
    auth = (parts.username, parts.password) if parts.username else None

    def run(sql: str) -> list[tuple[Any, ...]]:
        response = httpx.post(str(base), params={"database": database, "default_format": "JSONCompact"},
                              content=sql.encode(), auth=auth, timeout=60)
        if response.status_code != 200:
            raise RuntimeError(f"ClickHouse answered {response.status_code}: {response.text[:300]}")
        return [tuple(r) for r in orjson.loads(response.content).get("data", [])] if response.content.strip() else []

    return run


def _jsonable(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


def explore_run(query: Query, store: Store, *, bucket_s: int | None = None) -> Answer:
    """The query's groups (largest first), the series of the largest, and what was scanned."""
    started = time.monotonic()
    builder = Builder(query, store.dialect, store.columns(), store.source)
    measures = ["count", "count_rse", "events", *(["value"] if query.aggregate != "COUNT" else []),
                *(["rate_count", "rate"] if query.rate else [])]
    n = len(query.group_by)
    width = bucket_s or bucket_seconds(query.start, query.end)
    matched = store.matched(builder.matched_sql(width))
    # Without a group-by, SQL answers one row even when nothing matched: no group, then.
    raw_rows = [r for r in store.fetch(builder.groups_sql(matched)) if r[n + measures.index("events")]]
    limited = ""
    if len(raw_rows) > query.limit:
        raw_rows = raw_rows[: query.limit]
        limited = (f"More than {query.limit} groups: the {query.limit} largest are shown. Group by fewer fields "
                   "or add filters to see the rest.")
    rows = []
    for r in raw_rows:
        row: dict[str, Any] = {"group": {g: _jsonable(v) for g, v in zip(query.group_by, r[:n], strict=True)}}
        row.update({m: _jsonable(v) for m, v in zip(measures, r[n:], strict=True)})
        row["count_rse"] = row["count_rse"] or 0.0
        rows.append(row)
    top: list[tuple[Value, ...]] = [tuple(r[:n]) for r in raw_rows[:SERIES_GROUPS]]
    series = (_series(store, builder, matched, width, top, query) if raw_rows
              else {"bucket_s": width, "buckets": [], "lines": []})
    scanned = store.fetch(builder.scanned_sql())[0][0]
    return Answer(rows=rows, series=series, events_scanned=int(scanned), events_matched=sum(r["events"] for r in rows),
                  limited=limited, seconds=round(time.monotonic() - started, 3), engine=store.dialect.name,
                  tail_events=getattr(store, "tail_events", 0), tail_malformed=getattr(store, "tail_malformed", 0))


def _series(store: Store, builder: Builder, matched: str, width: int, top: list[tuple[Value, ...]],
            query: Query) -> dict[str, Any]:
    n = len(query.group_by)
    data = store.fetch(builder.series_sql(matched, top))
    buckets = sorted({int(r[0]) for r in data})
    index = {b: i for i, b in enumerate(buckets)}
    measure = n + 1 if query.aggregate == "COUNT" else n + 2
    lines = {g: [None] * len(buckets) for g in top}
    for r in data:
        key = tuple(r[1: n + 1])
        if key in lines:
            lines[key][index[int(r[0])]] = _jsonable(r[measure])
    return {"bucket_s": width, "buckets": buckets,
            "start": int(query.start.timestamp()), "end": int(query.end.timestamp()),
            "lines": [{"group": {p: _jsonable(v) for p, v in zip(query.group_by, g, strict=True)}, "values": v}
                      for g, v in lines.items()]}


def explore_raw(query: Query, store: Store, group: tuple[Value, ...],
                bucket: tuple[int, int] | None = None) -> list[dict[str, Any]]:
    """The newest events behind one group (of at most RAW_LIMIT), each as its original JSON object."""
    builder = Builder(query, store.dialect, store.columns(), store.source)
    return [orjson.loads(raw) for (raw,) in store.fetch(builder.raw_sql(group, bucket)) if raw]


@contextmanager
def store_open(query: Query, settings: Any) -> Iterator[Store]:
    """The configured store for `query`: ClickHouse when EVENTS_STORE_URL is set, else the Parquet store."""
    if settings.EVENTS_STORE_URL:
        yield ClickHouseStore(clickhouse_http(settings.EVENTS_STORE_URL), table="wide_events",
                              time_limit_s=settings.EXPLORER_TIME_LIMIT_SECONDS)
        return
    store = DuckDBStore(store_dir=Path(settings.EVENTS_STORE_DIR),
                        log=Path(settings.WIDE_EVENTS_PATH) if settings.WIDE_EVENTS_PATH else None,
                        tail_max_bytes=settings.EXPLORER_TAIL_MAX_BYTES,
                        time_limit_s=settings.EXPLORER_TIME_LIMIT_SECONDS,
                        hour_from=query.start.strftime("%Y-%m-%dT%H"), hour_to=query.end.strftime("%Y-%m-%dT%H"))
    try:
        yield store
    finally:
        store.close()
