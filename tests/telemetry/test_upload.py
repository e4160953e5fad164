"""The upload endpoint against the real database: statuses, idempotence, trips, query budget."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection

from telemetry.drive_sim import DrivePlan, drive_metadata, drive_readings
from telemetry.models import PidDescription, Reading, Trip
from telemetry.trips import trip_finalize
from tests.telemetry.budget import steady_upload_queries

START = datetime(2026, 3, 2, 17, 45, tzinfo=UTC)
pytestmark = pytest.mark.django_db


def first_reading(session: str = "1772473500000", **extra: str) -> dict[str, str]:
    params = next(drive_readings(DrivePlan(session=session, start=START)))
    return {**params, **extra}


def test_stored_reading_answers_ok(volt, upload) -> None:
    response = upload(volt.token, first_reading())
    assert response.status_code == 200
    assert response.content == b"OK!"
    reading = Reading.objects.get()
    assert reading.vehicle_id == volt.vehicle.pk
    assert reading.soc_pct == pytest.approx(80.0)
    assert reading.speed_mph == pytest.approx(40.0)


def test_get_upload_works_like_post(volt, upload) -> None:
    assert upload(volt.token, first_reading(), method="get").content == b"OK!"
    assert Reading.objects.count() == 1


def test_duplicate_upload_is_stored_once(volt, upload) -> None:
    params = first_reading()
    assert upload(volt.token, params).content == b"OK!"
    assert upload(volt.token, params).content == b"OK!"
    assert Reading.objects.count() == 1
    assert Trip.objects.get().reading_count == 1


def test_device_id_is_learned_and_email_is_not_stored(volt, upload) -> None:
    upload(volt.token, first_reading())
    volt.vehicle.refresh_from_db()
    assert volt.vehicle.torque_device_id == "sim-device-0001"
    reading = Reading.objects.get()
    assert "owner@example.com" not in str(reading.raw) + str(reading.rejected)


def test_partly_bad_reading_is_stored_without_the_bad_values(volt, upload) -> None:
    response = upload(volt.token, first_reading(kd="NaN", k46="99", ke16f08="1.5"))
    assert response.content == b"OK!"
    reading = Reading.objects.get()
    assert reading.speed_mph is None and reading.ambient_temp_f is None
    assert reading.rejected == {"kd": "not_a_number", "k46": "out_of_range"}
    assert reading.raw == {"ke16f08": "1.5"}
    assert reading.soc_pct == pytest.approx(80.0)


def test_metadata_message_stores_pid_names_and_no_reading(volt, upload) -> None:
    plan = DrivePlan(session="1772473500000", start=START)
    assert upload(volt.token, drive_metadata(plan)).content == b"OK!"
    assert Reading.objects.count() == 0 and Trip.objects.count() == 0
    soc = PidDescription.objects.get(vehicle=volt.vehicle, pid="22005b")
    assert (soc.full_name, soc.short_name, soc.user_unit) == ("State of Charge (displayed)", "SOC", "%")
    assert upload(volt.token, {"session": "1", "userUnit22005b": "percent"}).content == b"OK!"
    soc.refresh_from_db()
    assert (soc.full_name, soc.user_unit) == ("State of Charge (displayed)", "percent")


def test_unknown_token_is_401_with_code_and_stores_nothing(db, upload) -> None:
    response = upload("not-a-token", first_reading())
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "E400"
    assert Reading.objects.count() == 0


@pytest.mark.parametrize("change", [{"time": ""}, {"session": ""}, {"time": "12"}, {}])
def test_unknown_token_is_401_before_any_payload_check_and_logs_no_payload(db, upload, wide_events, change) -> None:
    # The payload is parsed before the token is looked up (the trip rides in that query): its verdict and
    # contents must still reach only the vehicle's owner.
    response = upload("not-a-token", first_reading(**change))
    assert (response.status_code, response.json()["error"]["code"]) == (401, "E400")
    [event] = [e for e in wide_events.events if e["operation"] == "telemetry_upload"]
    assert event["error"]["code"] == "E400"
    assert "telemetry" not in event and "vehicle" not in event


def test_too_many_fields_is_401_for_an_unknown_token_and_413_for_a_known_one(volt, upload, settings) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    assert upload("not-a-token", first_reading()).json()["error"]["code"] == "E400"
    response = upload(volt.token, first_reading())
    assert (response.status_code, response.json()["error"]["code"]) == (413, "E002")
    assert Reading.objects.count() == 0


def test_duplicate_of_the_latest_reading_leaves_the_trip_alone(volt, upload) -> None:
    readings = list(drive_readings(DrivePlan(session="dup", start=START)))[:3]
    for params in readings:
        assert upload(volt.token, params).content == b"OK!"
    before = Trip.objects.values().get()
    assert upload(volt.token, readings[-1]).content == b"OK!"
    assert upload(volt.token, readings[0]).content == b"OK!"
    assert Trip.objects.values().get() == before and before["reading_count"] == 3
    assert Reading.objects.count() == 3


@pytest.mark.parametrize(("change", "code"), [({"time": ""}, "E300"), ({"time": "12"}, "E301"),
                                               ({"session": ""}, "E302")])
def test_unstorable_payload_is_400_with_code(volt, upload, change, code) -> None:
    response = upload(volt.token, first_reading(**change))
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["code"] == code and body["error"]["message"]
    assert Reading.objects.count() == 0


def test_wrong_method_is_405_with_code(volt, client) -> None:
    response = client.put(f"/api/torque/upload/{volt.token}")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "E003"


@pytest.mark.django_db(transaction=True)
def test_database_down_is_503_with_retry_after_never_ok(volt, upload) -> None:
    upload(volt.token, first_reading())  # the trip exists
    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL (set DATABASE_URL), as in CI")
    # A real connection failure: point the connection at a closed port.
    saved = connection.settings_dict.copy()
    connection.close()
    connection.settings_dict["PORT"] = 1
    try:
        response = upload(volt.token, first_reading(time=str(int(START.timestamp() * 1000) + 5000)))
    finally:
        connection.close()
        connection.settings_dict.update(saved)
    assert response.status_code == 503
    assert response["Retry-After"].isdigit()
    assert response.json()["error"]["code"] == "E200"
    assert response.content != b"OK!"
    assert Reading.objects.count() == 1


def test_new_session_opens_a_trip_and_reports_it(volt, upload) -> None:
    readings = list(drive_readings(DrivePlan(session="100", start=START, electric_miles=1, gas_miles=0)))
    for params in readings:
        assert upload(volt.token, params).content == b"OK!"
    trip = Trip.objects.get()
    assert (trip.session, trip.reading_count, trip.is_closed) == ("100", len(readings), False)


def test_electric_then_gas_drive_end_to_end(volt, upload) -> None:
    plan = DrivePlan(session="200", start=START)
    for params in drive_readings(plan):
        assert upload(volt.token, params).content == b"OK!"
    trip = Trip.objects.get()
    assert trip.gas_mode_entered_at is not None
    assert trip.soc_at_gas_entry == pytest.approx(plan.floor_soc, abs=0.1)
    trip_finalize(trip_id=trip.pk)
    trip.refresh_from_db()
    assert trip.is_closed
    assert trip.distance_miles == pytest.approx(50, abs=0.1)
    assert trip.electric_miles == pytest.approx(30, abs=0.2)
    assert trip.gas_miles == pytest.approx(20, abs=0.2)
    assert trip.kwh_per_mile == pytest.approx(0.28, rel=0.01)
    assert trip.gas_mpg == pytest.approx(40, rel=0.02)


def test_steady_state_upload_query_budget(volt, upload, django_assert_num_queries) -> None:
    readings = drive_readings(DrivePlan(session="300", start=START))
    upload(volt.token, next(readings))  # opens the trip, learns the device id
    with django_assert_num_queries(steady_upload_queries()):
        # 1 the session's trip by the cached vehicle's id and token hash, 2 WITH r AS (INSERT reading ON CONFLICT DO
        # NOTHING RETURNING id) UPDATE trip counters and gas state FROM r (SQLite: INSERT, UPDATE apart)
        assert upload(volt.token, next(readings)).content == b"OK!"
