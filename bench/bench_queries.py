"""Queries per upload in steady state, counted, with the statements. A benchmark report, not a test.

    DATABASE_URL=... python bench/bench_queries.py

A moderate vehicle (bench/fleet.py) uploads a few readings of one session through Django's test
client (every middleware, the real PostgreSQL); the next upload's statements are captured and
printed, a prepared statement's EXECUTE with the statement it runs. tests/telemetry pins the same
budget with django_assert_num_queries.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "volttracker.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.fleet import START_MS, fleet_create, upload_query  # noqa: E402


def _clip(sql: str) -> str:
    return sql if len(sql) <= 300 else sql[:300] + " ..."


def _prepared_text(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE name = %s", [name])
        row = cursor.fetchone()
    return row[0] if row else "(not prepared on this connection)"


def main() -> None:
    logging.getLogger("wide_events").handlers = [logging.NullHandler()]  # the statements are the output here
    [(_, token)] = fleet_create(vehicles=1, prefix=f"queries-{os.getpid()}")
    client = Client()
    url = f"/api/torque/upload/{token}"
    for i in range(3):  # the first opens the trip; then steady state
        assert client.get(f"{url}?{upload_query(session='q', at_ms=START_MS + i * 1000)}").content == b"OK!"
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"{url}?{upload_query(session='q', at_ms=START_MS + 3000)}")
    assert response.content == b"OK!", response.content
    statements = [q["sql"] for q in captured.captured_queries]
    control = [sql for sql in statements if sql in ("BEGIN", "COMMIT", "ROLLBACK")]
    print(f"{len(statements) - len(control)} queries for one steady-state upload (a new reading on an open trip), "
          f"plus {' and '.join(control) or 'no transaction control'}:")
    for i, sql in enumerate(statements, 1):
        print(f"  {i}. {_clip(sql)}")
        if sql.startswith("EXECUTE "):  # a prepared statement (telemetry/prepared.py): what it runs
            print(f"     prepared as: {_clip(_prepared_text(sql.split('(')[0].removeprefix('EXECUTE ')))}")
    print(json.dumps({"bench": "queries", "queries": len(statements) - len(control),
                      "transaction_control": control}))


if __name__ == "__main__":
    main()
