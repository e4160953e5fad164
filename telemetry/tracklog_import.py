"""Importing Torque track logs (service): one file, one transaction, one wide event.

A file's rows are parsed by the upload path's own parser (telemetry/tracklog.py says how rows
become uploads), stored in batches with COPY (telemetry/tracklog_copy.py), counted on their trip
with the gas-mode detector stepped as uploads step it, and the trip is then finalized as the
stale-trip sweep finalizes it: gas mode, refuels and charging sessions come from the same replays
over the stored readings. So an imported drive gives the trip its uploads would have given, and a
reading already uploaded (same vehicle, session and time) is not stored twice. docs/import.md.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest, Least
from django.utils import timezone

from logging_policy.current import current_event, event_bound
from logging_policy.error_codes import error_code
from logging_policy.emit import event_emit, event_open
from logging_policy.events import WideEvent
from logging_policy.redact import clip
from telemetry.models import Reading, Trip, Vehicle
from telemetry.parked import parked_record_reading
from telemetry.soc import soc_of
from telemetry.torque import PayloadError, TorqueUpload, parse_reading, time_in_future, trip_key
from telemetry.tracklog import Params, TracklogStats, tracklog_parse
from telemetry.tracklog_copy import ReadingCopier
from telemetry.trips import trip_finalize, trip_for_session, trip_gas_step, trip_previous_open_claim

OPERATION = "tracklog_import"
NAME_LIMIT = 64  # a file name in the event, clipped: never a path (it can hold a user's name)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
# Rows of the file checked against readings already stored, to find the live upload's session.
_LIVE_PROBE_ROWS = 50

Progress = Callable[[int], object]  # tqdm's update returns a bool


@dataclass(slots=True)
class TracklogImportResult:
    name: str
    session: str = ""
    rows_read: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: dict[str, int] = field(default_factory=dict)  # rows skipped, by reason
    values_rejected: int = 0  # single values the parser refused in stored rows (`-`, `∞`, out of range)
    unknown_columns: list[str] = field(default_factory=list)
    header_lines: int = 0
    zone: str = ""
    trip_id: int | None = None
    trip_created: bool = False
    trips_touched: list[int] = field(default_factory=list)  # finalized by this import
    timings_ms: dict[str, float] = field(default_factory=dict)  # parse, copy, detect, finalize, commit, total

    def summary(self) -> str:
        """One line for a person: the command's output, the admin's message."""
        skipped = ", ".join(f"{n} {reason}" for reason, n in sorted(self.rejected.items())) or "none"
        trip = f"trip {self.trip_id} ({'new' if self.trip_created else 'existing'})" if self.trip_id else "no trip"
        return (f"{self.name}: {self.rows_read} rows, {self.stored} stored, {self.duplicates} already stored, "
                f"rows skipped: {skipped}; {len(self.unknown_columns)} columns not imported; {trip}; "
                f"{self.timings_ms.get('total', 0) / 1000:.1f} s")


def _ms(at: datetime) -> int:
    return round((at - _EPOCH) / _MS)


def _live_session(*, vehicle: Vehicle, uploads: list[TorqueUpload]) -> str | None:
    """The session of readings already stored at this file's first times: the drive uploaded live.

    Torque names a live session after the moment logging started, which can be a few seconds before
    the log's first row; adopting the stored session lets the unique constraint see the duplicates.
    Two queries, on the trip index and the (trip, time) index.
    """
    times = [u.recorded_at for u in uploads[:_LIVE_PROBE_ROWS] if u.recorded_at is not None]
    if not times:
        return None
    trips = Trip.objects.filter(vehicle=vehicle, started_at__lte=max(times), last_reading_at__gte=min(times))
    return (Reading.objects.filter(trip__in=list(trips.values_list("pk", flat=True)), recorded_at__in=times)
            .values_list("session", flat=True).first())


class _FileImport:
    """The state of one file's import while its batches are stored."""

    def __init__(self, *, vehicle: Vehicle, result: TracklogImportResult) -> None:
        self.vehicle, self.result = vehicle, result
        self.trip: Trip | None = None
        self.copier: ReadingCopier | None = None
        self.updates: dict[str, object] = {}  # trip fields the detectors moved, written once at the end
        self.new_trip = False  # the next stored in-order reading is the trip's first: it inherits parked state
        self.first_at: datetime | None = None
        self.last_at: datetime | None = None
        self.rejected: Counter[str] = Counter()
        self.db_seconds = 0.0  # of `store`: the COPY and INSERT; the rest is the detectors

    def parse(self, rows: Iterable[Params]) -> list[TorqueUpload]:
        uploads = []
        now, allowance = timezone.now(), settings.READING_FUTURE_ALLOWANCE_SECONDS
        for params in rows:
            try:
                upload = parse_reading(params)
                if upload.recorded_at and (late := time_in_future(upload.recorded_at, now=now,
                                                                  allowance_seconds=allowance)):
                    raise late
                uploads.append(upload)
            except PayloadError as exc:  # no time, no value: the row is skipped, as its upload would be
                self.rejected[error_code(exc.code).name] += 1
        return uploads

    def _open(self, uploads: list[TorqueUpload]) -> None:
        session = _live_session(vehicle=self.vehicle, uploads=uploads) or uploads[0].session
        at = uploads[0].recorded_at
        assert at is not None
        ref = trip_for_session(vehicle=self.vehicle, session=session, trip_key=trip_key(session), at=at, found=None)
        self.trip = ref.trip
        self.result.session, self.result.trip_id, self.result.trip_created = session, ref.trip.pk, ref.created
        self.new_trip = ref.created or ref.trip.reading_count == 0
        self.copier = ReadingCopier(vehicle_id=self.vehicle.pk, trip_id=ref.trip.pk, session=session,
                                    received_at=timezone.now())

    def store(self, uploads: list[TorqueUpload]) -> None:
        if not uploads:
            return
        if self.trip is None:
            self._open(uploads)
        assert self.trip is not None and self.copier is not None
        started = time.perf_counter()
        stored = self.copier.store(uploads)
        self.db_seconds += time.perf_counter() - started
        self.result.duplicates += len(uploads) - len(stored)
        trip = self.trip
        for upload in uploads:
            at = upload.recorded_at
            assert at is not None
            if _ms(at) not in stored:
                continue
            stored.discard(_ms(at))  # a time twice in the file is stored once
            self.result.stored += 1
            self.result.values_rejected += len(upload.rejected)
            values = upload.values
            # As uploads run them (telemetry/ingest.py): only a reading newer than the trip's newest drives
            # the detectors, which need time order. Parked ones query only while charging or on a refuel.
            if at >= trip.last_reading_at:
                self.updates.update(parked_record_reading(vehicle=self.vehicle, trip=trip, at=at, values=values,
                                                          new_trip=self.new_trip))
                self.new_trip = False
            gas, _ = trip_gas_step(trip=trip, at=at, rpm=values.get("engine_rpm"), soc=soc_of(values))
            for name, value in gas.items():
                setattr(trip, name, value)
            self.updates.update(gas)
            trip.last_reading_at = max(trip.last_reading_at, at)
            self.first_at = min(self.first_at or at, at)
            self.last_at = max(self.last_at or at, at)

    def finish(self) -> None:
        """Count the stored readings on the trip, then finalize it (and the trips a new session ends)."""
        if self.trip is None or not self.result.stored:
            return
        trip = self.trip
        Trip.objects.filter(pk=trip.pk).update(
            reading_count=F("reading_count") + self.result.stored,
            last_reading_at=Greatest(F("last_reading_at"), Value(self.last_at)),
            started_at=Least(F("started_at"), Value(self.first_at)),
            last_received_at=timezone.now(),
            is_closed=False,  # as a late upload reopens a finalized trip; finalized again below
            **self.updates,
        )
        event = current_event()
        if self.result.trip_created:
            event.fact("trip_created")
            for trip_id in trip_previous_open_claim(vehicle=self.vehicle, except_trip_id=trip.pk,
                                                  started_before=trip.started_at):
                # As the stale sweep: a trip that cannot be finalized stays open for the next sweep.
                try:
                    if trip_finalize(trip_id=trip_id) is not None:
                        self.result.trips_touched.append(trip_id)
                except Exception as exc:  # noqa: BLE001 - recorded on the event, retried by the sweep
                    event.add_error(exc, f"trip {trip_id}: {type(exc).__name__}")
        if trip_finalize(trip_id=trip.pk) is not None:
            self.result.trips_touched.append(trip.pk)


def _import(*, vehicle: Vehicle, data: bytes, result: TracklogImportResult, tz: str | None, batch_size: int,
            progress: Progress | None) -> None:
    stats = TracklogStats()
    rows = tracklog_parse(data, tz=tz, stats=stats)
    state = _FileImport(vehicle=vehicle, result=result)
    timings: defaultdict[str, float] = defaultdict(float)
    try:
        _batches_store(rows, state, timings, batch_size, progress)
    finally:
        result.rows_read, result.header_lines, result.zone = stats.rows, stats.header_lines, stats.zone
        result.rejected = dict(stats.rejected + state.rejected)
        result.unknown_columns = list(stats.unknown_columns)
        result.timings_ms.update({name: round(s * 1000.0, 3) for name, s in timings.items()})


def _batches_store(rows: Iterator[Params], state: _FileImport, timings: defaultdict[str, float], batch_size: int,
                   progress: Progress | None) -> None:
    """Parse and store batch by batch, then finalize: one transaction, so an error leaves nothing behind
    (and takes back what the work set on the event)."""
    with current_event().rollback_guard(), transaction.atomic():
        while True:
            started = time.perf_counter()
            batch = list(islice(rows, batch_size))
            uploads = state.parse(batch)
            parsed = time.perf_counter()
            timings["parse"] += parsed - started
            if not batch:
                break
            state.store(uploads)
            timings["detect"] += time.perf_counter() - parsed
            if progress is not None:
                progress(len(batch))
        started = time.perf_counter()
        state.finish()
        committing = time.perf_counter()
        timings["finalize"] += committing - started
    timings["commit"] += time.perf_counter() - committing
    timings["copy"] = state.db_seconds
    timings["detect"] -= state.db_seconds


def _event_fields(result: TracklogImportResult) -> dict[str, Any]:
    return {
        "file": result.name, "rows_read": result.rows_read, "stored": result.stored,
        "duplicates": result.duplicates, "rejected": result.rejected,
        "rows_rejected": sum(result.rejected.values()), "values_rejected": result.values_rejected,
        "unknown_columns": len(result.unknown_columns),
        "unknown_column_names": [clip(name, NAME_LIMIT) for name in result.unknown_columns[:20]],
        "header_lines": result.header_lines, "zone": result.zone, "trip_created": result.trip_created,
        "trips_touched": len(result.trips_touched),
    }


def tracklog_import(*, vehicle: Vehicle, data: bytes, name: str = "", tz: str | None = None,
                    batch_size: int = 5000, progress: Progress | None = None) -> TracklogImportResult:
    """Import one track-log file for `vehicle`; all of it or (on any error) nothing.

    Raises TracklogError for a file that is not a track log. Emits one wide event (`tracklog_import`,
    kind `task`) with the counts, in the trace of the caller's event if there is one.
    """
    caller = current_event()
    event: WideEvent = event_open(operation=OPERATION, kind="task", trace_id=caller.trace_id or None)
    if caller.operation:
        event.set("caller", operation=caller.operation, request_id=caller.request_id)
    result = TracklogImportResult(name=clip(Path(name).name, NAME_LIMIT))
    started = time.perf_counter()
    try:
        with event_bound(event):
            event.set("vehicle", id=vehicle.pk)
            _import(vehicle=vehicle, data=data, result=result, tz=tz, batch_size=batch_size, progress=progress)
    except Exception as exc:
        event.add_error(exc)
        raise
    finally:
        result.timings_ms["total"] = round((time.perf_counter() - started) * 1000.0, 3)
        event.set("tracklog", _event_fields(result))
        event.set("timings_ms", {f"tracklog_{k}": v for k, v in result.timings_ms.items()})
        event_emit(event)
    return result


def tracklog_import_path(*, vehicle: Vehicle, path: Path | str, tz: str | None = None, batch_size: int = 5000,
                         progress: Progress | None = None) -> TracklogImportResult:
    """`tracklog_import` of a file on disk (read whole: a track log is a few MB per hour of driving)."""
    path = Path(path)
    return tracklog_import(vehicle=vehicle, data=path.read_bytes(), name=path.name, tz=tz,
                           batch_size=batch_size, progress=progress)
