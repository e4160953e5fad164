"""The explorer's queries: what a query is, how it is checked, and its SQL in two dialects.

Pure: no Django, no database. A query names field paths and operators as strings (a saved query is
data); every field path is checked against `FIELD_PATH` and becomes a quoted identifier, every value a
literal built here (numbers through float(), text through `sql_text`), so nothing a user types reaches
the SQL unquoted. A path the store has no column for reads as NULL (it "does not exist").

Counts and sums are weighted by `sampling.sample_rate` (1 / keep probability). The precision of a
weighted count is the Horvitz-Thompson variance estimate sum((1 - p) / p^2) over the kept events, p =
`sampling.rate`; `ht_count_rse_sql` gives its relative standard error (the sampling overview computes
the same estimator in Python).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from logging_policy.event_rows import FIELD_PATH, RAW
from logging_policy.event_store import sql_text

OPERATORS = ("=", "!=", ">", "<", "contains", "exists")
AGGREGATES = ("COUNT", "SUM", "AVG", "P50", "P95", "P99", "MAX")
MAX_GROUP_BY = 3
RAW_LIMIT = 50
SERIES_GROUPS = 10  # lines drawn: the largest groups
Value = str | float | int | bool | None


class QueryRefusedError(ValueError):
    """The query cannot run as asked; the message says why, for the person who asked (E007)."""


@dataclass(frozen=True, slots=True)
class Filter:
    field: str
    op: str
    value: Value = None


@dataclass(frozen=True, slots=True)
class Query:
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    filters: tuple[Filter, ...] = ()
    group_by: tuple[str, ...] = ()
    aggregate: str = "COUNT"
    field: str | None = None  # the numeric field of SUM, AVG, P50, P95, P99, MAX
    rate: Filter | None = None  # also answer the weighted share of each group's events matching this
    limit: int = 1000


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    ident_quote: str
    tables: dict[str, str] = field(default_factory=dict)

    def ident(self, path: str) -> str:
        return f"{self.ident_quote}{path}{self.ident_quote}"

    def as_double(self, sql: str) -> str:
        return f"TRY_CAST({sql} AS DOUBLE)" if self.name == "duckdb" else f"toFloat64OrNull(toString({sql}))"

    def as_text(self, sql: str) -> str:
        return f"CAST({sql} AS VARCHAR)" if self.name == "duckdb" else f"toString({sql})"

    def contains(self, sql: str, needle: str) -> str:
        return (f"contains({self.as_text(sql)}, {sql_text(needle)})" if self.name == "duckdb"
                else f"position({self.as_text(sql)}, {sql_text(needle, clickhouse=True)}) > 0")

    def quantile(self, sql: str, q: float) -> str:
        return f"quantile_cont({sql}, {q})" if self.name == "duckdb" else f"quantile({q})({sql})"

    def timestamp(self, moment: datetime) -> str:
        text = moment.strftime("%Y-%m-%d %H:%M:%S.%f")
        return f"TIMESTAMP '{text}'" if self.name == "duckdb" else f"toDateTime64('{text}', 6, 'UTC')"

    def epoch_bucket(self, seconds: int) -> str:
        ts = self.ident("timestamp")
        return (f"CAST(floor(epoch({ts}) / {seconds}) * {seconds} AS BIGINT)" if self.name == "duckdb"
                else f"intDiv(toUnixTimestamp({ts}), {seconds}) * {seconds}")


DUCKDB = Dialect("duckdb", '"')
CLICKHOUSE = Dialect("clickhouse", "`")

# Column kinds the builder needs: from the store's own types (DuckDB or ClickHouse names).
NUMBER, BOOLEAN, TEXT, TIME = "number", "boolean", "text", "timestamp"


def column_kind(sql_type: str) -> str:
    t = sql_type.lower().removeprefix("nullable(").rstrip(")")
    if t.startswith(("bool",)):
        return BOOLEAN
    if t.startswith(("timestamp", "datetime", "date")):
        return TIME
    if t.startswith(("bigint", "integer", "int", "uint", "double", "float", "decimal", "hugeint", "smallint",
                     "tinyint", "real")):
        return NUMBER
    return TEXT


def field_check(path: str) -> str:
    if not isinstance(path, str) or not FIELD_PATH.match(path) or path == RAW:
        raise QueryRefusedError(f"{str(path)[:80]!r} is not a field path: dotted names of letters, digits and _ "
                           "(for example error.code or timings_ms.db_insert).")
    return path


def _number(value: Value, what: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise QueryRefusedError(f"{what} needs a number; {str(value)[:80]!r} is not one.") from None
    if not math.isfinite(number):
        raise QueryRefusedError(f"{what} needs a finite number.")
    return number


def _literal(value: Value, kind: str, what: str, *, clickhouse: bool = False) -> str:
    if kind == NUMBER:
        return repr(_number(value, what))
    if kind == BOOLEAN:
        text = str(value).lower()
        if text not in ("true", "false", "1", "0"):
            raise QueryRefusedError(f"{what} is true or false; {str(value)[:80]!r} is neither.")
        return "TRUE" if text in ("true", "1") else "FALSE"
    return sql_text("" if value is None else str(value).lower() if isinstance(value, bool) else str(value),
                    clickhouse=clickhouse)


class Builder:
    """SQL for one query over one relation (`source`) whose columns are `columns` (field path -> kind)."""

    def __init__(self, query: Query, dialect: Dialect, columns: dict[str, str], source: str) -> None:
        self.q, self.d, self.columns, self.source = query, dialect, columns, source
        self._check()

    def _check(self) -> None:
        q = self.q
        if q.end <= q.start:
            raise QueryRefusedError("The time range is empty: its end must be after its start.")
        if len(q.group_by) > MAX_GROUP_BY:
            raise QueryRefusedError(f"Group by at most {MAX_GROUP_BY} fields ({len(q.group_by)} given).")
        if q.aggregate not in AGGREGATES:
            raise QueryRefusedError(f"Unknown aggregate {q.aggregate[:20]!r}; known: {', '.join(AGGREGATES)}.")
        for path in (*q.group_by, *(f.field for f in (*q.filters, *([q.rate] if q.rate else [])))):
            field_check(path)
        for f in (*q.filters, *([q.rate] if q.rate else [])):
            if f.op not in OPERATORS:
                raise QueryRefusedError(f"Unknown operator {f.op[:20]!r}; known: {', '.join(OPERATORS)}.")
        if q.aggregate != "COUNT":
            if not q.field:
                raise QueryRefusedError(f"{q.aggregate} needs a numeric field (duration_ms, db.time_ms, timings_ms.*).")
            field_check(q.field)
            if self.columns.get(q.field, NUMBER) != NUMBER:
                raise QueryRefusedError(f"{q.aggregate} needs a numeric field; {q.field} holds {self.columns[q.field]}.")

    def col(self, path: str) -> str:
        return self.d.ident(path) if path in self.columns else "NULL"

    def condition(self, f: Filter) -> str:
        col, kind = self.col(f.field), self.columns.get(f.field, TEXT)
        what = f"{f.field} {f.op}"
        if f.op == "exists":
            return f"({col} IS NOT NULL)"
        if f.op == "contains":
            return f"({self.d.contains(col, '' if f.value is None else str(f.value))})"
        if f.op in (">", "<"):
            target = col if kind == NUMBER else self.d.as_double(col)
            return f"({target} {f.op} {repr(_number(f.value, what))})"
        literal = _literal(f.value, kind, what, clickhouse=self.d.name == "clickhouse")
        if f.op == "=":
            return f"({col} = {literal})"
        return f"({col} IS NULL OR {col} != {literal})"

    def where(self, extra: list[str] = ()) -> str:  # type: ignore[assignment]
        ts = self.d.ident("timestamp")
        parts = [f"{ts} >= {self.d.timestamp(self.q.start)}", f"{ts} < {self.d.timestamp(self.q.end)}",
                 *(self.condition(f) for f in self.q.filters), *extra]
        return " AND ".join(parts)

    def weight(self) -> str:
        return f"coalesce({self.as_number('sampling.sample_rate')}, 1.0)"

    def as_number(self, path: str) -> str:
        col = self.col(path)
        return col if self.columns.get(path) == NUMBER else self.d.as_double(col)

    def matched_sql(self, bucket_s: int) -> str:
        """The one scan of the store: each matching event as its bucket, group values, weight `w`, keep
        probability `p`, aggregated value `x` and share condition `r`. Groups and series read this."""
        w = self.weight()
        x = self.as_number(self.q.field) if self.q.aggregate != "COUNT" and self.q.field else "NULL"
        r = self.condition(self.q.rate) if self.q.rate is not None else "FALSE"
        keys = [f"{self.col(g)} AS g{i}" for i, g in enumerate(self.q.group_by)]
        return (f"SELECT {', '.join([f'{self.d.epoch_bucket(bucket_s)} AS bucket', *keys])}, {w} AS w, "
                f"greatest(coalesce({self.as_number('sampling.rate')}, 1.0 / {w}), 1e-9) AS p, {x} AS x, {r} AS r "
                f"FROM {self.source} WHERE {self.where()}")

    @staticmethod
    def ht_count_rse_sql() -> str:
        """Relative standard error of the weighted count (Horvitz-Thompson): sqrt(sum((1 - p) / p^2)) /
        sum(1 / p), over the matched events' keep probabilities `p` and weights `w` (= 1 / p)."""
        return "sqrt(sum((1.0 - p) / (p * p))) / nullif(sum(w), 0)"

    def value_sql(self) -> str | None:
        agg = self.q.aggregate
        if agg == "COUNT" or not self.q.field:
            return None
        if agg == "SUM":
            return "sum(w * x)"
        if agg == "AVG":
            return "sum(w * x) / nullif(sum(CASE WHEN x IS NOT NULL THEN w ELSE 0 END), 0)"
        if agg == "MAX":
            return "max(x)"
        return self.d.quantile("x", {"P50": 0.5, "P95": 0.95, "P99": 0.99}[agg])

    def _measures(self) -> list[tuple[str, str]]:
        out = [("count", "sum(w)"), ("count_rse", self.ht_count_rse_sql()), ("events", "count(*)")]
        if (value := self.value_sql()) is not None:
            out.append(("value", value))
        if self.q.rate is not None:
            out.append(("rate_count", "sum(CASE WHEN r THEN w ELSE 0 END)"))
            out.append(("rate", "sum(CASE WHEN r THEN w ELSE 0 END) / nullif(sum(w), 0)"))
        return out

    def groups_sql(self, matched: str) -> str:
        """Groups of `matched` (a relation of `matched_sql` rows), largest weighted count first."""
        keys = [f"g{i}" for i in range(len(self.q.group_by))]
        measures = [f"{sql} AS {name}" for name, sql in self._measures()]
        group = f" GROUP BY {', '.join(keys)}" if keys else ""
        order = ", ".join(["count DESC", *keys])  # ties in a stable order
        return (f"SELECT {', '.join([*keys, *measures])} FROM {matched}{group} ORDER BY {order} "
                f"LIMIT {int(self.q.limit) + 1}")

    def series_sql(self, matched: str, groups: list[tuple[Value, ...]]) -> str:
        """Per time bucket (epoch seconds) and group, the count and the aggregate, for `groups` only."""
        keys = [f"g{i}" for i in range(len(self.q.group_by))]
        where = f" WHERE {self.groups_match(groups, matched=True)}" if keys else ""
        measures = [f"{sql} AS {name}" for name, sql in self._measures() if name in ("count", "value", "rate")]
        names = ", ".join(["bucket", *keys])
        return (f"SELECT {', '.join(['bucket', *keys, *measures])} FROM {matched}{where} GROUP BY {names} "
                "ORDER BY bucket")

    def group_match(self, group: tuple[Value, ...], *, matched: bool = False) -> str:
        parts = []
        for i, (path, value) in enumerate(zip(self.q.group_by, group, strict=True)):
            col = f"g{i}" if matched else self.col(path)
            if value is None:
                parts.append(f"{col} IS NULL")
            else:
                literal = _literal(value, self.columns.get(path, TEXT), path, clickhouse=self.d.name == "clickhouse")
                parts.append(f"{col} = {literal}")
        return "(" + " AND ".join(parts or ["TRUE"]) + ")"

    def groups_match(self, groups: list[tuple[Value, ...]], *, matched: bool = False) -> str:
        return "(" + " OR ".join(self.group_match(g, matched=matched) for g in groups) + ")" if groups else "FALSE"

    def raw_sql(self, group: tuple[Value, ...], bucket: tuple[int, int] | None = None) -> str:
        """The newest events behind one group (and one time bucket: [start, end) epoch seconds)."""
        extra = [self.group_match(group)] if self.q.group_by else []
        if bucket is not None:
            b = self.d.epoch_bucket(1)
            extra.append(f"{b} >= {int(bucket[0])} AND {b} < {int(bucket[1])}")
        ts = self.d.ident("timestamp")
        return (f"SELECT {self.d.ident(RAW)} FROM {self.source} WHERE {self.where(extra)} "
                f"ORDER BY {ts} DESC LIMIT {RAW_LIMIT}")

    def scanned_sql(self) -> str:
        ts = self.d.ident("timestamp")
        return (f"SELECT count(*) FROM {self.source} WHERE {ts} >= {self.d.timestamp(self.q.start)} "
                f"AND {ts} < {self.d.timestamp(self.q.end)}")


def bucket_seconds(start: datetime, end: datetime, target: int = 60) -> int:
    """A round bucket width giving about `target` points over the range."""
    span = (end - start).total_seconds() / target
    for width in (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400):
        if width >= span:
            return width
    return 30 * 86400
