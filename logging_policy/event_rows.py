"""Wide-event lines to flat rows: one column per field path (`vehicle.usage_tier`), typed per batch.

Pure: no Django, no database. The event store (event_store.py) writes these rows to Parquet and the
explorer queries them by field path, so a field path is a column name. `_raw` keeps the line itself
for the raw-event view.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

# What a field path may be: dotted names of letters, digits and underscores. Anything else in an event
# (a key with a space, say) stays in `_raw` only. The explorer validates paths against the same pattern.
FIELD_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}(\.[A-Za-z0-9_]{1,64}){0,5}$")
RAW = "_raw"
HOUR = "_hour"  # the UTC hour of `timestamp`, as `YYYY-MM-DDTHH`: which Parquet file a row goes to

Row = dict[str, Any]


@dataclass(slots=True)
class Parsed:
    rows: list[Row] = field(default_factory=list)
    malformed: int = 0


_PATHS: dict[str, bool] = {}  # field path -> valid: the same few hundred names recur in every event


def _valid(name: str) -> bool:
    ok = _PATHS.get(name)
    if ok is None:
        ok = bool(FIELD_PATH.match(name))
        if len(_PATHS) < 100_000:  # open namespaces (timings_ms.*) could grow it without bound
            _PATHS[name] = ok
    return ok


def event_flatten(event: dict[str, Any], prefix: str = "", out: Row | None = None) -> Row:
    """`{"vehicle": {"id": 7}}` -> `{"vehicle.id": 7}`; lists become JSON text; odd keys are left out."""
    row: Row = {} if out is None else out
    for key, value in event.items():
        name = prefix + key
        if type(value) is dict:
            event_flatten(value, name + ".", row)
        elif value is None or not _valid(name):
            continue
        elif type(value) is list:
            row[name] = orjson.dumps(value).decode()
        else:
            row[name] = value
    return row


def timestamp_parse(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        return None
    return stamp.astimezone(UTC) if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def lines_parse(lines: list[bytes]) -> Parsed:
    """Rows of the lines that are JSON objects with an ISO `timestamp`; the others are counted, not raised."""
    parsed = Parsed()
    for line in lines:
        if not line.strip():
            continue
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            parsed.malformed += 1
            continue
        stamp = timestamp_parse(event.get("timestamp")) if isinstance(event, dict) else None
        if stamp is None:
            parsed.malformed += 1
            continue
        row = event_flatten(event)
        text = stamp.replace(tzinfo=None).isoformat()  # 2026-06-08T01:02:03.123000 (DuckDB reads the T)
        row["timestamp"] = text
        row[HOUR] = text[:13]
        row[RAW] = line.decode("utf-8", "replace").rstrip("\n")
        parsed.rows.append(row)
    return parsed


def _type_of(values: set[type]) -> str:
    if values == {bool}:
        return "BOOLEAN"
    if values == {int}:
        return "BIGINT"
    if values <= {int, float}:
        return "DOUBLE"
    return "VARCHAR"


def columns_typed(rows: list[Row]) -> dict[str, str]:
    """DuckDB type of each column of `rows` (a column mixing kinds is text). `timestamp` is a TIMESTAMP."""
    kinds: dict[str, set[type]] = {}
    for row in rows:
        for name, value in row.items():
            seen = kinds.get(name)
            if seen is None:
                kinds[name] = {type(value)}
            elif type(value) not in seen:
                seen.add(type(value))
    columns = {name: _type_of(types) for name, types in kinds.items()}
    for name, value in columns.items():
        if value == "BIGINT" and any(not -(2**63) <= row.get(name, 0) < 2**63 for row in rows):
            columns[name] = "DOUBLE"
    columns["timestamp"] = "TIMESTAMP"
    return columns


def rows_text(rows: list[Row], columns: dict[str, str]) -> bytes:
    """The rows as JSON lines for DuckDB's read_json; text columns get their values as text."""
    # Only columns that mix kinds need their values made text; the others go as they are.
    mixed = [name for name, kind in columns.items() if kind == "VARCHAR" and name not in (RAW, HOUR)]
    dumps = orjson.dumps
    out = []
    for row in rows:
        for name in mixed:
            value = row.get(name)
            if value is not None and type(value) is not str:
                row[name] = dumps(value).decode() if type(value) is not bool else str(value).lower()
        out.append(dumps(row))
    return b"\n".join(out) + b"\n"
