"""The upload's statements (two in steady state on PostgreSQL), their SQL built once per process, not per request.

Building a query (QuerySet clone, compiler, select_related population) cost 0.5-0.8 ms of CPU
per statement on the development VM, two thirds of an upload's CPU (docs/benchmarks.md,
"Ingest throughput"). The SQL here is derived from the models' `_meta` on first use, so a field
added by a migration is read and written like everywhere else; values go through the fields'
own `get_db_prep_save` and `from_db_value`, as the ORM does. Statements run on Django's
cursor, so query counting (tests, wide events) sees them; the upload's, on PostgreSQL, as
prepared statements (telemetry/prepared.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import cache, lru_cache
from typing import Any, NamedTuple, TypeVar, cast

from django.db import connection
from django.db.models import CharField, DateTimeField, Field, FloatField, ForeignKey, JSONField, Model

from telemetry.models import Reading, Trip, Vehicle, VehicleStats
from telemetry.prepared import execute_prepared

Converter = Callable[[Any, Any, Any], Any]
Converters = tuple[tuple[int, list[Converter], Any], ...]
_M = TypeVar("_M", bound=Model)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


@cache
def _columns(model: type[Model], alias: str) -> tuple[str, Converters]:
    """The select list of all concrete fields of `model` (table aliased), and per-column converters."""
    fields = model._meta.concrete_fields
    select = ", ".join(f"{alias}.{_q(f.column)}" for f in fields)
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(alias)
        found = connection.ops.get_db_converters(column) + field.get_db_converters(connection)  # type: ignore[attr-defined]  # missing from the stubs
        if found:
            converters.append((index, found, column))
    return select, tuple(converters)


def _instance(model: type[_M], alias: str, values: tuple[Any, ...]) -> _M:
    """A model instance from a row in concrete-field order, converted as the ORM would."""
    _, converters = _columns(model, alias)
    if converters:
        row = list(values)
        for index, functions, column in converters:
            for function in functions:
                row[index] = function(row[index], column, connection)
        values = tuple(row)
    return model.from_db(connection.alias, [f.attname for f in model._meta.concrete_fields], values)


def _odometer_sql(comparison: str, order: str) -> str:
    """The odometer of the vehicle's nearest reading before (`<`) or after (`>`) a time: one index probe
    (reading_vehicle_odometer_time); no row for a NULL time."""
    r = _q(Reading._meta.db_table)
    return (f"(SELECT o.{_q('odometer_miles')} FROM {r} o WHERE o.{_q('vehicle_id')} = v.{_q('id')} "
            f"AND o.{_q('odometer_miles')} IS NOT NULL AND o.{_q('recorded_at')} {comparison} %s "
            f"ORDER BY o.{_q('recorded_at')} {order} LIMIT 1)")


@cache
def _vehicle_sql(with_trip: bool, with_vehicle: bool = True) -> str:
    """The upload's first statement: by token hash, the vehicle and its stats row (`with_vehicle`; else only
    the check that a vehicle has that hash and id), and with `with_trip` the trip of a key and the odometers."""
    selected = [f"{_columns(Vehicle, 'v')[0]}, {_columns(VehicleStats, 's')[0]}"] if with_vehicle else []
    # With the trip come the odometer check's neighbours (telemetry/odometer.py), in the same statement.
    if with_trip:
        selected.append(f"{_columns(Trip, 't')[0]}, {_odometer_sql('<', 'DESC')}, {_odometer_sql('>', 'ASC')}")
    stats = (f" LEFT OUTER JOIN {_q(VehicleStats._meta.db_table)} s ON s.{_q('vehicle_id')} = v.{_q('id')}"
             if with_vehicle else "")
    join = (f" LEFT OUTER JOIN {_q(Trip._meta.db_table)} t ON t.{_q('vehicle_id')} = v.{_q('id')} "
            f"AND t.{_q('trip_key')} = %s" if with_trip else "")
    by_id = "" if with_vehicle else f"v.{_q('id')} = %s AND "
    return (f"SELECT {', '.join(selected)} FROM {_q(Vehicle._meta.db_table)} v{stats}{join} "
            f"WHERE {by_id}v.{_q('token_hash')} = %s LIMIT 1")


def _vehicle_row(row: tuple[Any, ...]) -> Vehicle:
    width = len(Vehicle._meta.concrete_fields)
    vehicle = _instance(Vehicle, "v", row[:width])
    stats_row = row[width:width + len(VehicleStats._meta.concrete_fields)]
    stats = _instance(VehicleStats, "s", stats_row) if stats_row[0] is not None else None
    if stats is not None:
        stats._state.fields_cache["vehicle"] = vehicle
    VehicleStats.vehicle.field.remote_field.set_cached_value(vehicle, stats)
    return vehicle


def vehicle_by_token_hash(token_hash: str) -> Vehicle | None:
    """Like `Vehicle.objects.select_related("stats").filter(token_hash=...).first()`: `vehicle.stats` costs
    no query (and raises DoesNotExist when the row is missing)."""
    with connection.cursor() as cursor:
        execute_prepared(cursor, _vehicle_sql(False), [token_hash])
        row = cursor.fetchone()
    return _vehicle_row(row) if row is not None else None


class UploadTarget(NamedTuple):
    vehicle: Vehicle | None
    trip: Trip | None
    # Odometers of the vehicle's readings just before and after the upload's time (None: none, or no time).
    odometer_before: float | None = None
    odometer_after: float | None = None


def vehicle_and_trip_by_token_hash(token_hash: str, *, trip_key: str, at: datetime | None = None) -> UploadTarget:
    """`vehicle_by_token_hash` and, in the same statement, the vehicle's trip with `trip_key` (None if it
    has none yet) and the odometers around `at`: the upload's trip and odometer check cost no query of their own."""
    with connection.cursor() as cursor:
        when = connection.ops.adapt_datetimefield_value(at) if at is not None else None
        execute_prepared(cursor, _vehicle_sql(True), [when, when, trip_key, token_hash])
        row = cursor.fetchone()
    if row is None:
        return UploadTarget(None, None)
    vehicle = _vehicle_row(row)
    return _with_trip(vehicle, row[len(Vehicle._meta.concrete_fields) + len(VehicleStats._meta.concrete_fields):])


def trip_by_known_vehicle(vehicle: Vehicle, *, token_hash: str, trip_key: str,
                          at: datetime | None = None) -> UploadTarget | None:
    """`vehicle_and_trip_by_token_hash` for a vehicle already read (with its stats): the same statement
    without the vehicle's columns, by its id; None when the vehicle no longer has `token_hash` (reset) or
    no longer exists."""
    with connection.cursor() as cursor:
        when = connection.ops.adapt_datetimefield_value(at) if at is not None else None
        execute_prepared(cursor, _vehicle_sql(True, with_vehicle=False),
                         [when, when, trip_key, vehicle.pk, token_hash])
        row = cursor.fetchone()
    return _with_trip(vehicle, row) if row is not None else None


def _with_trip(vehicle: Vehicle, row: tuple[Any, ...]) -> UploadTarget:
    """The target from the trip's columns and the two odometers at the end of `row`."""
    before, after = row[-2:]
    trip_row = row[:-2]
    if trip_row[0] is None:
        return UploadTarget(vehicle, None, before, after)
    trip = _instance(Trip, "t", trip_row)
    trip._state.fields_cache["vehicle"] = vehicle
    return UploadTarget(vehicle, trip, before, after)


@cache
def _trip_sql() -> str:
    return (f"SELECT {_columns(Trip, 't')[0]} FROM {_q(Trip._meta.db_table)} t "
            f"WHERE t.{_q('vehicle_id')} = %s AND t.{_q('trip_key')} = %s LIMIT 1")


def trip_by_key(*, vehicle_id: int, trip_key: str) -> Trip | None:
    """Like `Trip.objects.filter(vehicle_id=..., trip_key=...).first()` (the pair is unique)."""
    with connection.cursor() as cursor:
        cursor.execute(_trip_sql(), [vehicle_id, trip_key])
        row = cursor.fetchone()
    return _instance(Trip, "t", row) if row is not None else None


# How each written column's value is prepared: preparing every value through its field (get_db_prep_save)
# cost 50 us of an upload's CPU, mostly the two foreign keys and the two times; a JSON value through its
# field's adapter about 10 us more than its text.
_FLOAT, _AS_IS, _DATETIME, _JSON, _FIELD = range(5)


def _kind(field: Field) -> int:
    if type(field) is FloatField:
        return _FLOAT
    if isinstance(field, ForeignKey) or type(field) is CharField:
        return _AS_IS  # an int id, a str: what the field would send
    if type(field) is DateTimeField:
        return _DATETIME
    if type(field) is JSONField and field.encoder is None:
        return _JSON
    return _FIELD


def _prepared(field: Field, kind: int, value: Any) -> Any:
    """`value` as `field` would send it (get_db_prep_save), cheaper for an aware time and a dict or list."""
    if kind == _DATETIME and type(value) is datetime and value.tzinfo is not None:
        return connection.ops.adapt_datetimefield_value(value)
    if kind == _JSON and (type(value) is dict or type(value) is list):
        return json.dumps(value)  # the field's own text; the column's type reads it (no cast needed)
    return field.get_db_prep_save(value, connection)


@cache
def _reading_fields() -> tuple[list[tuple[Field, int]], str]:
    """(field, how its value is prepared) per inserted column, and the INSERT statement."""
    fields = [f for f in Reading._meta.concrete_fields if not f.primary_key]
    sql = (f"INSERT INTO {_q(Reading._meta.db_table)} ({', '.join(_q(f.column) for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT DO NOTHING "
           f"RETURNING {_q(Reading._meta.pk.column)}")
    return [(f, _kind(f)) for f in fields], sql


def reading_params(row: Mapping[str, Any]) -> list[Any]:
    """The INSERT's parameters for a reading given as attname -> value, as the ORM would send them.

    A float column missing from `row` is NULL; every other column must be in it (`received_at` too).
    """
    fields, _ = _reading_fields()
    params: list[Any] = []
    for field, kind in fields:
        value = row.get(field.attname)
        if kind == _FLOAT:
            if value is None or type(value) is float:
                params.append(value)
                continue
        elif kind == _AS_IS:
            if type(value) is int or type(value) is str:
                params.append(value)
                continue
        params.append(_prepared(field, kind, value))
    return params


def reading_insert(reading: Reading) -> int | None:
    """`INSERT ... ON CONFLICT DO NOTHING RETURNING id`: the new id, or None for a duplicate.

    One statement, no savepoint: the unique constraint decides, so concurrent
    retries of one upload cannot both be stored.
    """
    fields, sql = _reading_fields()
    reading_id = _reading_stored(sql, reading_params({f.attname: f.pre_save(reading, True) for f, _ in fields}))
    if reading_id is not None:
        reading.pk = reading_id
        reading._state.adding = False
    return reading_id


def _reading_stored(sql: str, params: list[Any]) -> int | None:
    """Run a statement returning the new reading's id (no row: a duplicate)."""
    with connection.cursor() as cursor:
        execute_prepared(cursor, sql, params)
        row = cursor.fetchone()
    return row[0] if row is not None else None


@lru_cache(maxsize=128)  # one entry per combination of fields the detectors set: a handful
def _counter_sql(names: tuple[str, ...]) -> tuple[str, tuple[tuple[Field, int], ...]]:
    """The trip UPDATE's SET list for `names` (fields or attnames of Trip), and their fields with their kinds.

    Widen the time span to `at`, count one reading, set the named fields. Built once per combination:
    quoting the names through `connection.ops` on every upload cost more than the UPDATE's own Python.
    """
    greatest, least = ("MAX", "MIN") if connection.vendor == "sqlite" else ("GREATEST", "LEAST")
    table = _q(Trip._meta.db_table)
    assignments = [
        f"{_q('last_reading_at')} = {greatest}({table}.{_q('last_reading_at')}, %s)",
        f"{_q('started_at')} = {least}({table}.{_q('started_at')}, %s)",
        f"{_q('last_received_at')} = %s",
        f"{_q('reading_count')} = {table}.{_q('reading_count')} + 1",
        # A reading that arrives after finalization (a phone offline past the stale window) reopens
        # the trip; the stale sweep finalizes it again with every reading.
        f"{_q('is_closed')} = %s",
        # A new reading lets the next new session queue the trip's finalization again (once).
        f"{_q('finalize_queued_at')} = NULL",
    ]
    fields = tuple(cast(Field, Trip._meta.get_field(name)) for name in names)  # columns, not relations
    assignments.extend(f"{_q(field.column)} = %s" for field in fields)
    return ", ".join(assignments), tuple((field, _kind(field)) for field in fields)


def _counter_assignments(*, at: datetime, received_at: datetime,
                         also: Mapping[str, object]) -> tuple[str, list[Any]]:
    """The trip UPDATE's SET list and its parameters (see `_counter_sql`)."""
    sql, fields = _counter_sql(tuple(also))
    stamp = connection.ops.adapt_datetimefield_value  # the three times are aware: what their field would send
    params: list[Any] = [stamp(at), stamp(at), stamp(received_at), False]
    params.extend(_prepared(field, kind, value) for (field, kind), value in zip(fields, also.values(), strict=True))
    return sql, params


def trip_counters_update(*, trip_id: int, at: datetime, received_at: datetime, also: Mapping[str, object]) -> None:
    """One UPDATE: widen the trip's time span to `at`, count one reading, and set the fields in `also`
    (field names or attnames of Trip, plain values)."""
    assignments, params = _counter_assignments(at=at, received_at=received_at, also=also)
    params.append(trip_id)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {_q(Trip._meta.db_table)} SET {assignments} WHERE {_q('id')} = %s", params)


def reading_insert_and_count(row: Mapping[str, Any], *, at: datetime, received_at: datetime,
                             also: Mapping[str, object]) -> int | None:
    """`reading_insert` of the reading `row` (attname -> value, `received_at` included) and
    `trip_counters_update` of its `trip_id` as one PostgreSQL statement:
    `WITH r AS (INSERT ... ON CONFLICT DO NOTHING RETURNING id) UPDATE trip ... FROM r RETURNING r.id`.

    The trip is updated only when the reading was stored (a duplicate changes nothing and returns None);
    one statement is its own transaction, so the two still commit together. SQLite has no INSERT in a
    CTE: callers use the two statements there. No model instance: building one cost more than the insert's
    own Python.
    """
    assignments, params = _counter_assignments(at=at, received_at=received_at, also=also)
    return _reading_stored(_insert_and_count_sql(assignments), [*reading_params(row), *params, row["trip_id"]])


@lru_cache(maxsize=128)
def _insert_and_count_sql(assignments: str) -> str:
    _, insert = _reading_fields()
    table = _q(Trip._meta.db_table)
    return (f"WITH r AS ({insert}) UPDATE {table} SET {assignments} FROM r "
            f"WHERE {table}.{_q('id')} = %s RETURNING r.{_q(Reading._meta.pk.column)}")
