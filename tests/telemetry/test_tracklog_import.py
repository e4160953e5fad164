"""Importing track logs (telemetry/tracklog_import.py): the same trip as uploads, each reading once, errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from telemetry.drive_sim import DrivePlan, drive_readings, session_for
from telemetry.models import Reading, Refuel, Trip
from telemetry.tracklog import TracklogError, tracklog_parse
from telemetry.tracklog_import import tracklog_import, tracklog_import_path
from telemetry.tracklog_sim import LogStyle, tracklog_csv
from telemetry.trips import trip_finalize
from telemetry.vehicles import NewToken

START = datetime(2026, 1, 3, 23, 55, 17, 889000, tzinfo=UTC)
QUIRKS = LogStyle(units="imperial", missing_every=5, infinite_every=7, restart_at=40, unknown_columns=4)
# Set by the server's clock or by the row's identity, not by the readings.
NOT_RESULTS = {"id", "vehicle_id", "last_received_at", "finalized_at", "weather_attempted_at",
               "finalize_queued_at"}
READING_COLUMNS = [f.attname for f in Reading._meta.concrete_fields
                   if f.attname not in {"id", "vehicle_id", "trip_id", "received_at"}]


def _plan(**kwargs: Any) -> DrivePlan:
    return DrivePlan(session=session_for(START), start=START, electric_miles=6, gas_miles=4, step_seconds=20,
                     **kwargs)


def _trip(vehicle_id: int) -> Trip:
    (trip,) = Trip.objects.filter(vehicle_id=vehicle_id)
    return trip


def _results(trip: Trip) -> dict[str, Any]:
    return {f.attname: getattr(trip, f.attname) for f in Trip._meta.concrete_fields if f.attname not in NOT_RESULTS}


def _readings(vehicle_id: int) -> list[tuple[Any, ...]]:
    return list(Reading.objects.filter(vehicle_id=vehicle_id).order_by("recorded_at").values_list(*READING_COLUMNS))


@pytest.mark.django_db
def test_an_imported_trip_equals_the_same_readings_uploaded_one_by_one(
        new_vehicle: Callable[..., NewToken], upload: Callable[..., Any]) -> None:
    # A refuel at the start (the fuel level jumps while the car stands at the pump), `-`, `∞` and a
    # restart with the columns reordered.
    drive = list(drive_readings(_plan(start_fuel_pct=90.0, standing_readings=4)))
    for reading in drive[:4]:
        reading["k22002f"] = "20"
    data = tracklog_csv(drive, QUIRKS).encode()
    imported, uploaded = new_vehicle("imported"), new_vehicle("uploaded")

    result = tracklog_import(vehicle=imported.vehicle, data=data, name="trackLog-2026-Jan-03.csv")
    for params in tracklog_parse(data):  # what the phone would have sent for each row
        assert upload(uploaded.token, params).content == b"OK!"
    trip_finalize(trip_id=_trip(uploaded.vehicle.pk).pk)  # as the stale sweep does

    assert (result.rows_read, result.stored, result.duplicates, result.rejected) == (len(drive), len(drive), 0, {})
    assert result.header_lines == 2 and len(result.unknown_columns) == 4 and result.values_rejected > 10
    trip, twin = _trip(imported.vehicle.pk), _trip(uploaded.vehicle.pk)
    assert _results(trip) == _results(twin)
    assert trip.is_closed and trip.reading_count == len(drive) and trip.gas_mode_entered_at is not None
    assert trip.distance_miles == pytest.approx(10, abs=0.05) and trip.gas_mpg == pytest.approx(40, rel=0.05)
    assert _readings(imported.vehicle.pk) == _readings(uploaded.vehicle.pk)
    refuels = [list(Refuel.objects.filter(vehicle_id=v.vehicle.pk).values_list("detected_at", "gallons_added"))
               for v in (imported, uploaded)]
    assert len(refuels[0]) == 1 and refuels[0] == refuels[1]


@pytest.mark.django_db
def test_imperial_and_metric_logs_of_a_drive_give_the_trip_of_its_live_uploads(
        new_vehicle: Callable[..., NewToken], upload: Callable[..., Any]) -> None:
    drive = list(drive_readings(_plan()))
    live = new_vehicle("live")
    for params in drive:
        assert upload(live.token, params).content == b"OK!"
    expected = trip_finalize(trip_id=_trip(live.vehicle.pk).pk)
    assert expected is not None
    for units in ("imperial", "metric"):
        vehicle = new_vehicle(units).vehicle
        tracklog_import(vehicle=vehicle, data=tracklog_csv(drive, LogStyle(units=units)).encode())
        trip = _trip(vehicle.pk)
        assert trip.session == expected.session and trip.started_at == expected.started_at
        for name in ("distance_miles", "electric_miles", "gas_miles", "electric_kwh_used", "kwh_per_mile",
                     "fuel_used_gallons", "gas_mpg", "ambient_temp_f", "start_soc", "end_soc", "soc_at_gas_entry"):
            assert getattr(trip, name) == pytest.approx(getattr(expected, name), rel=1e-5), (units, name)
        assert trip.gas_mode_entered_at == expected.gas_mode_entered_at and trip.notes == expected.notes


@pytest.mark.django_db
def test_importing_twice_stores_each_reading_once_and_leaves_the_trip_alone(
        volt: NewToken, wide_events: Any) -> None:
    data = tracklog_csv(drive_readings(_plan()), QUIRKS).encode()
    first = tracklog_import(vehicle=volt.vehicle, data=data, name="/home/jane.doe/phone/trackLog-1.csv")
    finalized = _trip(volt.vehicle.pk).finalized_at
    again = tracklog_import(vehicle=volt.vehicle, data=data, name="trackLog-1.csv")
    assert (first.stored, first.duplicates, again.stored, again.duplicates) == (first.rows_read, 0, 0, first.rows_read)
    assert again.trip_id == first.trip_id and again.trips_touched == [] and first.trips_touched == [first.trip_id]
    assert Reading.objects.filter(vehicle=volt.vehicle).count() == first.rows_read
    assert _trip(volt.vehicle.pk).finalized_at == finalized and _trip(volt.vehicle.pk).reading_count == first.rows_read
    events = [e for e in wide_events.events if e["operation"] == "tracklog_import"]
    assert [(e["kind"], e["success"]) for e in events] == [("task", True), ("task", True)]
    tracklog = events[0]["tracklog"]
    assert tracklog["file"] == "trackLog-1.csv"  # the name, never the path
    assert (tracklog["rows_read"], tracklog["stored"], tracklog["duplicates"]) == (first.rows_read, first.rows_read, 0)
    assert (tracklog["header_lines"], tracklog["unknown_columns"], tracklog["trips_touched"]) == (2, 4, 1)
    assert events[0]["business"]["trip_created"] is True and events[0]["business"]["trip_finalized"] is True
    assert events[1]["tracklog"]["duplicates"] == first.rows_read and events[0]["timings_ms"]["tracklog_copy"] > 0


@pytest.mark.django_db
@pytest.mark.parametrize("logging_started_early_ms", [0, 8000])
def test_a_drive_uploaded_live_is_not_stored_again(
        volt: NewToken, upload: Callable[..., Any], logging_started_early_ms: int) -> None:
    """Torque names a live session after the moment logging started, which can precede the log's first row."""
    drive = list(drive_readings(_plan()))
    live_session = str(int(drive[0]["time"]) - logging_started_early_ms)
    for params in drive[:30]:  # the phone lost its connection after 30 uploads
        assert upload(volt.token, {**params, "session": live_session}).content == b"OK!"
    result = tracklog_import(vehicle=volt.vehicle, data=tracklog_csv(drive).encode())
    assert (result.stored, result.duplicates, result.session) == (len(drive) - 30, 30, live_session)
    trip = _trip(volt.vehicle.pk)
    assert trip.reading_count == len(drive) == Reading.objects.filter(vehicle=volt.vehicle).count()
    assert trip.is_closed and trip.distance_miles == pytest.approx(10, abs=0.05)


@pytest.mark.django_db
def test_a_file_that_is_not_a_track_log_stores_nothing_and_its_event_says_why(
        volt: NewToken, wide_events: Any) -> None:
    good = tracklog_csv(drive_readings(_plan()))
    data = good.encode() + b"\xff\xfe a binary tail\n"  # the file was cut and something else written after it
    with pytest.raises(TracklogError) as refused:
        tracklog_import(vehicle=volt.vehicle, data=data, name="broken.csv")
    assert refused.value.line == len(good.splitlines()) + 1
    assert Reading.objects.filter(vehicle=volt.vehicle).count() == 0 and not Trip.objects.filter(vehicle=volt.vehicle)
    (event,) = [e for e in wide_events.events if e["operation"] == "tracklog_import"]
    assert event["success"] is False and event["error"]["code"] == "E305"
    assert event["error"]["message"].startswith(f"line {refused.value.line}: not UTF-8")
    assert "business" not in event or "trip_created" not in event["business"]  # rolled back: not a fact


@pytest.mark.django_db
def test_rows_the_parser_refuses_are_counted_by_reason(volt: NewToken) -> None:
    text = ("GPS Time,Device Time,Engine RPM(rpm),Speed (OBD)(mph)\n"
            "Sat Jan 03 15:55:17 PST 2026,03-Jan-2026 15:55:17.889,1450,40\n"
            "Sat Jan 03 15:55:18 PST 2026,03-Jan-2026 15:55:18.889,-,40\n"  # stored, its `-` refused
            "Sat Jan 03 15:55:19 PST 2026,03-Jan-1999 15:55:19.000,1450,40\n"  # before the year 2000
            "Sat Jan 03 15:55:20 PST 2026,03-Jan-2026 15:55:20.000,,-\n"  # no value at all
            "Sat Jan 03 15:55:21 PST 2026,someday,1450,40\n")
    result = tracklog_import(vehicle=volt.vehicle, data=text.encode())
    assert (result.rows_read, result.stored, result.values_rejected) == (5, 2, 1)
    assert result.rejected == {"invalid_timestamp": 1, "no_values": 1, "bad_device_time": 1}


@pytest.mark.django_db
def test_a_new_session_finalizes_the_open_trip_before_it(volt: NewToken, upload: Callable[..., Any],
                                                        tmp_path: Path) -> None:
    earlier = list(drive_readings(_plan()))[:20]
    for params in earlier:
        assert upload(volt.token, params).content == b"OK!"
    later = DrivePlan(session="later", start=START + timedelta(hours=3), electric_miles=2, gas_miles=0)
    path = tmp_path / "trackLog-later.csv"
    path.write_text(tracklog_csv(drive_readings(later)), encoding="utf-8")
    result = tracklog_import_path(vehicle=volt.vehicle, path=path)
    first = Trip.objects.get(vehicle=volt.vehicle, session=earlier[0]["session"])
    assert first.is_closed and result.trips_touched == [first.pk, result.trip_id]

