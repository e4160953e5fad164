"""Readings in bulk: PostgreSQL COPY into a temporary table, then one INSERT ... ON CONFLICT DO NOTHING.

COPY cannot skip rows that break a constraint, so the batch lands in a temporary table first and
moves over with the upload path's own rule: the unique constraint (vehicle, session, recorded_at)
decides what is a duplicate (telemetry/upload_sql.py). The columns come from the model's `_meta`,
so a reading column added by a migration is written here with no change: a value the parser gives
(`torque.PIDS`), else the field's default.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import orjson
from django.db import connection
from django.db.models import Field

from telemetry.models import Reading
from telemetry.torque import READING_FIELDS, TorqueUpload
from telemetry.upload_sql import reading_insert

TEMP_TABLE = "tracklog_batch"
_EPOCH, _MS = datetime(1970, 1, 1, tzinfo=UTC), timedelta(milliseconds=1)
_FIXED = ("vehicle_id", "trip_id", "session", "recorded_at", "received_at", "raw", "rejected")
# COPY's text format: backslash, tab, newline and carriage return are escaped; \N is NULL.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def copy_text(value: Any) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (dict, list)):
        value = orjson.dumps(value).decode()
    return str(value).translate(_ESCAPES)


@cache
def _columns() -> tuple[list[Field], str]:
    fields = [f for f in Reading._meta.concrete_fields if not f.primary_key]
    return fields, ", ".join(_q(f.column) for f in fields)


class ReadingCopier:
    """Stores one file's readings batch by batch, inside the caller's transaction."""

    def __init__(self, *, vehicle_id: int, trip_id: int, session: str, received_at: datetime) -> None:
        fields, self._columns = _columns()
        known = set(READING_FIELDS)
        fixed = {"vehicle_id": str(vehicle_id), "trip_id": str(trip_id), "session": copy_text(session),
                 "received_at": received_at.isoformat()}
        # A row is this template with the per-reading cells filled in: no per-column branching per row.
        self._template: list[str] = []
        self._values: list[tuple[int, str]] = []  # (cell, parser field)
        for index, f in enumerate(fields):
            if f.attname in known:
                self._values.append((index, f.attname))
                self._template.append("\\N")
            elif f.attname in fixed:
                self._template.append(fixed[f.attname])
            elif f.attname in _FIXED:
                self._template.append("{}")  # raw, rejected: the empty object, filled below when not
            else:  # a column no reading value fills (none today): its default, as the ORM would write it
                self._template.append(copy_text(f.get_db_prep_save(f.get_default(), connection)))
        names = [f.attname for f in fields]
        self._at, self._raw, self._rejected = (names.index(n) for n in ("recorded_at", "raw", "rejected"))
        self._created = False
        self._vehicle_id, self._trip_id, self._session = vehicle_id, trip_id, session

    def _line(self, upload: TorqueUpload) -> str:
        cells = self._template.copy()
        values = upload.values
        for index, name in self._values:
            value = values.get(name)
            if value is not None:
                cells[index] = repr(value)
        cells[self._at] = upload.recorded_at.isoformat()  # type: ignore[union-attr]  # a reading has a time
        if upload.unknown:
            cells[self._raw] = copy_text(upload.unknown)
        if upload.rejected:
            cells[self._rejected] = copy_text(upload.rejected)
        return "\t".join(cells)

    def store(self, uploads: Sequence[TorqueUpload]) -> set[int]:
        """Insert the batch; returns the recorded times (epoch ms) of the readings stored (not duplicates)."""
        if not uploads:
            return set()
        if connection.vendor != "postgresql":
            return self._store_one_by_one(uploads)
        table = _q(Reading._meta.db_table)
        buffer = io.StringIO("\n".join(self._line(u) for u in uploads) + "\n")
        with connection.cursor() as cursor:
            if not self._created:
                # Dropped at commit or rollback: one file is one transaction. IF NOT EXISTS and TRUNCATE: two
                # files imported in one transaction (a caller's) share it.
                cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {TEMP_TABLE} ON COMMIT DROP AS "
                               f"SELECT {self._columns} FROM {table} WITH NO DATA")
                self._created = True
            cursor.execute(f"TRUNCATE {TEMP_TABLE}")
            cursor.cursor.copy_expert(f"COPY {TEMP_TABLE} ({self._columns}) FROM STDIN", buffer)
            cursor.execute(
                f"INSERT INTO {table} ({self._columns}) SELECT {self._columns} FROM {TEMP_TABLE} "
                f"ON CONFLICT DO NOTHING RETURNING (EXTRACT(EPOCH FROM {_q('recorded_at')}) * 1000)::bigint"
            )
            return {row[0] for row in cursor.fetchall()}

    def _store_one_by_one(self, uploads: Sequence[TorqueUpload]) -> set[int]:
        """Without COPY (the SQLite of `make run`): the upload's own INSERT ... ON CONFLICT DO NOTHING per row."""
        stored = set()
        for u in uploads:
            assert u.recorded_at is not None  # parse_reading raises without a time
            reading = Reading(vehicle_id=self._vehicle_id, trip_id=self._trip_id, session=self._session,
                              recorded_at=u.recorded_at, raw=u.unknown, rejected=u.rejected, **u.values)
            if reading_insert(reading) is not None:
                stored.add(round((u.recorded_at - _EPOCH) / _MS))
        return stored
