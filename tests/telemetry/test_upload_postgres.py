"""What an upload asks of PostgreSQL: its statements prepared once per connection (again on a new one), and a
trip UPDATE that adds no index entry (a HOT update)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import ProgrammingError, connection, transaction
from django.test.utils import CaptureQueriesContext

from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.models import Reading, Trip
from telemetry.prepared import _statement, execute_prepared
from tests.telemetry.budget import steady_upload_queries

START = datetime(2026, 3, 2, 17, 45, tzinfo=UTC)


def _prepared_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements WHERE starts_with(name, 'vt_')")
        return {row[0] for row in cursor.fetchall()}


def test_statement_numbers_its_placeholders_and_refuses_other_percent_signs() -> None:
    name, prepare, execute = _statement('SELECT "a" FROM "t" WHERE "b" = %s AND "c" < %s')
    assert name.startswith("vt_") and len(name) == 23
    assert prepare == f'PREPARE {name} AS SELECT "a" FROM "t" WHERE "b" = $1 AND "c" < $2'
    assert execute == f"EXECUTE {name}(%s, %s)"
    assert _statement("SELECT 1") == (_statement("SELECT 1")[0], f"PREPARE {_statement('SELECT 1')[0]} AS SELECT 1",
                                      f"EXECUTE {_statement('SELECT 1')[0]}")
    assert _statement("SELECT 2")[0] != _statement("SELECT 1")[0]
    with pytest.raises(ValueError, match="placeholders"):
        _statement("SELECT 'x%' WHERE a = %s")


@pytest.mark.django_db
def test_a_statement_that_cannot_be_prepared_raises_djangos_error_and_is_not_remembered() -> None:
    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL (set DATABASE_URL), as in CI")
    for _ in range(2):  # not remembered as prepared: the second call prepares (and fails) again
        with pytest.raises(ProgrammingError, match="no_such_table"), transaction.atomic(), \
                connection.cursor() as cursor:
            execute_prepared(cursor, "SELECT 1 FROM no_such_table WHERE id = %s", [1])


@pytest.mark.django_db(transaction=True)
def test_upload_statements_are_prepared_once_per_connection_and_again_after_a_reconnect(volt, upload) -> None:
    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL (set DATABASE_URL), as in CI")
    readings = drive_readings(DrivePlan(session="prep", start=START))
    connection.close()  # a new connection: nothing prepared on it yet
    for _ in range(3):
        assert upload(volt.token, next(readings)).content == b"OK!"
    names = _prepared_names()
    with CaptureQueriesContext(connection) as queries:
        assert upload(volt.token, next(readings)).content == b"OK!"
    executed = [q["sql"] for q in queries.captured_queries]
    assert len(executed) == steady_upload_queries() == 2
    assert all(sql.startswith("EXECUTE vt_") for sql in executed), executed
    assert {sql.split("(")[0].removeprefix("EXECUTE ") for sql in executed} <= names
    assert _prepared_names() == names  # nothing prepared again on the same connection

    connection.close()
    with CaptureQueriesContext(connection) as queries:
        assert upload(volt.token, next(readings)).content == b"OK!"
    assert len(queries.captured_queries) == 2  # the PREPARE on the new connection is not counted
    assert {sql.split("(")[0].removeprefix("EXECUTE ") for sql in (q["sql"] for q in queries.captured_queries)
            } <= _prepared_names()
    trip = Trip.objects.get()
    assert Reading.objects.count() == trip.reading_count == 5


def test_steady_uploads_update_their_trip_in_place_without_index_entries(volt, upload) -> None:
    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL (set DATABASE_URL), as in CI")
    readings = drive_readings(DrivePlan(session="hot", start=START))
    assert upload(volt.token, next(readings)).content == b"OK!"  # opens the trip

    def updates() -> tuple[int, int]:  # the trip table's updates in this transaction, and how many were HOT
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_get_xact_tuples_updated(%s::regclass), "
                           "pg_stat_get_xact_tuples_hot_updated(%s::regclass)", [Trip._meta.db_table] * 2)
            return cursor.fetchone()

    before = updates()
    for _ in range(5):
        assert upload(volt.token, next(readings)).content == b"OK!"
    after = updates()
    # An index on a column every upload sets (last_received_at, last_reading_at, reading_count) would make
    # each of these a new index entry in every index of the table.
    assert (after[0] - before[0], after[1] - before[1]) == (5, 5)
    assert Trip.objects.get().reading_count == 6
