"""The Torque payload parser: one row per key, with units and bad values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from telemetry.torque import PIDS, PayloadError, parse_number, parse_upload, trip_key

BASE = {"v": "8", "session": "1700000000000", "id": "abc123", "time": "1700000000500"}


def parse(**extra: str):
    return parse_upload({**BASE, **extra})


@pytest.mark.parametrize(
    ("key", "raw", "field", "expected"),
    [
        ("kff1006", "42.331427", "latitude", 42.331427),
        ("kff1005", "-83.045754", "longitude", -83.045754),
        ("kff1001", "100", "gps_speed_mph", 62.137119),
        ("kd", "64.37376", "speed_mph", 40.0),
        ("kff1010", "100", "altitude_ft", 328.08399),
        ("kff1204", "16.09344", "trip_distance_miles", 10.0),
        ("kff1271", "3.785411784", "trip_fuel_gallons", 1.0),
        ("ka6", "32186.88", "odometer_miles", 20000.0),
        ("kc", "1450", "engine_rpm", 1450.0),
        ("k46", "-40", "ambient_temp_f", -40.0),
        ("k46", "20", "ambient_temp_f", 68.0),
        ("k5", "90", "coolant_temp_f", 194.0),
        ("k2f", "55.5", "fuel_level_pct", 55.5),
        ("k42", "13.8", "control_voltage", 13.8),
        ("k22005b", "84.3", "soc_pct", 84.3),
        ("k5b", "15.3", "soc_raw_pct", 15.3),
        ("k22002f", "71", "volt_fuel_level_pct", 71.0),
        ("k22000b", "-12.5", "hv_power_kw", -12.5),
        ("k220009", "371.2", "hv_voltage", 371.2),
        ("k22000a", "-33.1", "hv_current_a", -33.1),
        ("k2241a3", "16.4", "battery_capacity_kwh", 16.4),
        ("k220057", "2", "charger_status", 2.0),
        ("k22006e", "3.3", "charger_power_kw", 3.3),
    ],
)
def test_each_key_is_stored_in_its_unit(key: str, raw: str, field: str, expected: float) -> None:
    upload = parse(**{key: raw})
    assert upload.values[field] == pytest.approx(expected, rel=1e-6)
    assert upload.rejected == {}


def test_every_known_key_has_a_row_above() -> None:
    # Keeps the table above honest when a PID is added.
    assert len(PIDS) == 22


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("", "not_a_number"), ("-", "not_a_number"), ("NaN", "not_a_number"), ("Infinity", "not_a_number"),
     ("-inf", "not_a_number"), ("fast", "not_a_number"), ("1e400", "not_a_number"), ("181", "out_of_range"),
     ("-1", "out_of_range")],
)
def test_bad_value_is_dropped_alone(raw: str, reason: str) -> None:
    upload = parse(kd=raw, k22005b="50")
    assert "speed_mph" not in upload.values
    assert upload.rejected == {"kd": reason}
    assert upload.values["soc_pct"] == 50.0


@pytest.mark.parametrize(("key", "raw"), [("k46", "56"), ("k46", "-41"), ("k22005b", "100.1"), ("kff1006", "91")])
def test_out_of_range_per_torque_md(key: str, raw: str) -> None:
    assert parse(kd="10", **{key: raw}).rejected == {key: "out_of_range"}


def test_keys_are_case_insensitive() -> None:
    upload = parse_upload({"SESSION": "s1", "Time": "1700000000500", "K22005B": "77", "kFF1001": "10"})
    assert upload.values["soc_pct"] == 77.0
    assert upload.session == "s1"


def test_time_is_milliseconds_since_epoch() -> None:
    assert parse(kd="1").recorded_at == datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=UTC)


@pytest.mark.parametrize(("time", "code"), [(None, "E300"), ("", "E300"), ("1700000000", "E301"),
                                            ("soon", "E301"), ("NaN", "E301"), ("1700000000000000", "E301")])
def test_unusable_time_is_refused(time: str | None, code: str) -> None:
    params = {**BASE, "kd": "10"}
    if time is None:
        del params["time"]
    else:
        params["time"] = time
    with pytest.raises(PayloadError) as info:
        parse_upload(params)
    assert info.value.code == code


def test_missing_session_is_refused() -> None:
    with pytest.raises(PayloadError) as info:
        parse_upload({"time": "1700000000500", "kd": "10"})
    assert info.value.code == "E302"


def test_upload_with_no_usable_value_is_refused() -> None:
    with pytest.raises(PayloadError) as info:
        parse(kd="NaN")
    assert info.value.code == "E303"


def test_unknown_keys_are_kept_raw_and_email_is_not() -> None:
    upload = parse(ke16f08="3.2", eml="owner@example.com", kd="10")
    assert upload.unknown == {"ke16f08": "3.2"}
    assert upload.had_email is True
    assert "owner@example.com" not in repr(upload)


def test_metadata_message_is_not_a_reading() -> None:
    upload = parse_upload({"session": "1", "id": "x", "userFullName22005b": "State of Charge",
                           "userShortName22005b": "SOC", "userUnit22005b": "%", "defaultUnit22005b": "%"})
    assert upload.kind == "metadata"
    meta = upload.metadata["22005b"]
    assert (meta.full_name, meta.short_name, meta.user_unit, meta.default_unit) == ("State of Charge", "SOC", "%", "%")
    assert upload.values == {}


def test_notice_message_is_not_a_reading() -> None:
    assert parse_upload({"session": "1", "notice": "Torque started", "noticeClass": "x"}).kind == "notice"


def test_session_maps_to_a_stable_bounded_key() -> None:
    assert trip_key(" 1700000000000 ") == "1700000000000"
    long = "x" * 500
    assert trip_key(long) == trip_key(long)
    assert len(trip_key(long)) == 64 and trip_key(long).startswith("h:")


@pytest.mark.parametrize(("raw", "value"), [("1", 1.0), (" 2.5 ", 2.5), ("1e3", 1000.0), ("nan", None), ("", None)])
def test_parse_number(raw: str, value: float | None) -> None:
    assert parse_number(raw) == value
