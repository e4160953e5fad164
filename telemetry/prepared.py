"""The upload's statements as PostgreSQL prepared statements: PREPARE once per connection, EXECUTE per upload.

PostgreSQL parsed and planned the upload's first statement (the trip, its 42 columns and the two
odometer probes) on every upload: 0.41 ms of the backend's CPU, against 0.11 ms executing it
prepared (docs/benchmarks.md, "Ingest throughput"). Connections live for CONN_MAX_AGE, so the
PREPARE is paid about once a minute per worker. A prepared statement belongs to its session and
outlives any rollback; a new connection (a reconnect, another process) prepares its own.

The EXECUTE runs on Django's cursor like any statement (query counting and the wide event see it,
with its parameters); the PREPARE runs on the raw connection, uncounted, so an upload's query
count does not depend on whether its connection is new.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from django.db.backends.utils import CursorWrapper

_prepared: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()  # raw connection -> names


@lru_cache(maxsize=256)  # a handful of statements: the trip UPDATE's SET list varies with the detectors' fields
def _statement(sql: str) -> tuple[str, str, str]:
    """(name, PREPARE text, EXECUTE text with %s placeholders) for `sql`, whose only `%` are `%s` placeholders."""
    parts = sql.split("%s")
    if any("%" in part for part in parts):
        raise ValueError("only %s placeholders may hold a % sign")
    name = "vt_" + hashlib.blake2b(sql.encode(), digest_size=10).hexdigest()
    numbered = "".join(f"{part}${i}" for i, part in enumerate(parts[:-1], 1)) + parts[-1]
    arguments = f"({', '.join(['%s'] * (len(parts) - 1))})" if len(parts) > 1 else ""
    return name, f"PREPARE {name} AS {numbered}", f"EXECUTE {name}{arguments}"


def execute_prepared(cursor: CursorWrapper, sql: str, params: Sequence[Any]) -> None:
    """`cursor.execute(sql, params)`, as a prepared statement on PostgreSQL (prepared on the connection's
    first use of `sql`); as it is elsewhere."""
    if cursor.db.vendor != "postgresql":
        cursor.execute(sql, params)
        return
    name, prepare, execute = _statement(sql)
    raw = cursor.db.connection
    names = _prepared.get(raw)
    if names is None:
        names = _prepared[raw] = set()
    if name not in names:
        # Django's exception classes, as for any statement: a lost connection is still a 503, not a 500.
        with cursor.db.wrap_database_errors, raw.cursor() as setup:
            setup.execute(prepare)
        names.add(name)  # only once prepared: a PREPARE that failed is tried again next time
    cursor.execute(execute, params)
