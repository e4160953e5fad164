"""Every query is counted and timed in the current event, through one wrapper on every connection."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, connections

from logging_policy.current import event_bound
from logging_policy.emit import event_open
from logging_policy.query_recording import query_record

pytestmark = pytest.mark.django_db


def select_one(conn: Any = connection) -> int:
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone()[0]


def test_queries_count_in_the_current_event_and_nowhere_outside_one() -> None:
    outer, inner = event_open(operation="outer", kind="task"), event_open(operation="inner", kind="task")
    assert select_one() == 1  # no event: the query runs, nothing is recorded
    with event_bound(outer):
        select_one()
        with event_bound(inner):  # an eager task inside a request: its queries are its own
            select_one()
            select_one()
        select_one()
    assert (outer.data["db"]["queries"], inner.data["db"]["queries"]) == (2, 2)
    assert outer.data["db"]["time_ms"] > 0.0
    assert connection.execute_wrappers.count(query_record) == 1


def test_a_connection_opened_inside_another_wrappers_block_keeps_both_in_place() -> None:
    """Django's `execute_wrapper` pops the last wrapper when its block ends: the recorder sits first."""
    seen: list[str] = []

    def other(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql)
        return execute(sql, params, many, context)

    fresh = connections.create_connection("default")  # a thread's new connection object, not yet open
    try:
        with fresh.execute_wrapper(other):
            select_one(fresh)  # opens it: the recorder is installed now, inside the block
            assert fresh.execute_wrappers == [query_record, other]
        assert fresh.execute_wrappers == [query_record] and seen == ["SELECT 1"]
        event = event_open(operation="probe", kind="task")
        with event_bound(event):
            select_one(fresh)
        assert event.data["db"]["queries"] == 1
    finally:
        fresh.close()
