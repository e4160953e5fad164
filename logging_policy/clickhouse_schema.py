"""The ClickHouse table the explorer queries at scale: one column per field path, as the Parquet store.

The columns come from docs/events.schema.json (every declared leaf field) plus the documented keys of
the open namespaces (`business.*` facts, `timings_ms.*` phases); a log shipper flattens each event
into these names (deploy/vector.toml) and ClickHouse drops keys it has no column for. `_raw` keeps the
whole line for the raw-event view. deploy/clickhouse/init.sql is this module's output (a test keeps
them equal). Pure.
"""

from __future__ import annotations

from typing import Any

from logging_policy.sampling import AUDIT_EVENTS
from logging_policy.vocabulary import vocabulary

TABLE = "wide_events"
TIMINGS = ("queue_wait",)  # logging_policy's own timer (task_events.py); the apps register theirs
_TYPES = {"string": "String", "integer": "Int64", "number": "Float64", "boolean": "Bool"}


def _leaf_type(node: dict[str, Any]) -> str:
    kinds = node.get("type")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
    known = [k for k in kinds if k != "null"]
    if len(known) == 1 and known[0] in _TYPES:
        return _TYPES[known[0]]
    return "String"  # arrays, objects and mixed kinds: their JSON text


def _walk(node: dict[str, Any], prefix: str, out: dict[str, str]) -> None:
    for name, sub in node.get("properties", {}).items():
        path = f"{prefix}{name}"
        if "properties" in sub:
            _walk(sub, f"{path}.", out)
        elif not (sub.get("type") == "object" and isinstance(sub.get("additionalProperties"), dict)):
            out[path] = _leaf_type(sub)


def clickhouse_columns(schema: dict[str, Any]) -> dict[str, str]:
    """Field path -> ClickHouse type (without Nullable) for every column of the table."""
    columns: dict[str, str] = {}
    _walk(schema, "", columns)
    words = vocabulary()
    columns.update({f"business.{fact}": "Bool" for fact in sorted({*words.business_events, *AUDIT_EVENTS})})
    columns.update({f"timings_ms.{phase}": "Float64" for phase in (*words.timings, *TIMINGS)})
    columns["timestamp"] = "DateTime64(3, 'UTC')"
    return columns


def clickhouse_table_ddl(schema: dict[str, Any], *, table: str = TABLE) -> str:
    columns = clickhouse_columns(schema)
    lines = [f"    `{name}` {kind if name == 'timestamp' else f'Nullable({kind})'}," for name, kind in columns.items()]
    lines.append("    `_raw` String CODEC(ZSTD(3))")
    return (f"CREATE TABLE IF NOT EXISTS {table}\n(\n" + "\n".join(lines) + "\n)\nENGINE = MergeTree\n"
            "PARTITION BY toDate(timestamp)\nORDER BY (timestamp)\n"
            "TTL toDateTime(timestamp) + INTERVAL 30 DAY DELETE;\n")
