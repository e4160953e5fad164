"""A reading whose odometer runs backwards in the vehicle's timeline is refused (400 E309); nothing else is lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.models import Reading
from telemetry.odometer import ODOMETER_SLACK_MILES, odometer_conflict

START = datetime(2026, 8, 8, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(("value", "before", "after", "refused"), [
    (100.0, 100.4, None, False),   # within the slack: resolution, two phones
    (100.0, 100.6, None, True),
    (100.0, None, 99.6, False),
    (100.0, None, 99.4, True),     # a late reading above the one after it
    (100.0, None, None, False),
    (100.0, 90.0, 110.0, False),
])
def test_the_slack_both_ways(value: float, before: float | None, after: float | None, refused: bool) -> None:
    assert ODOMETER_SLACK_MILES == 0.5
    assert (odometer_conflict(value, before=before, after=after) is not None) is refused


@pytest.mark.django_db
def test_a_replayed_drive_over_an_earlier_one_is_refused_and_the_first_kept(volt, upload, wide_events) -> None:
    first = list(drive_readings(DrivePlan(session="one", start=START, electric_miles=5, gas_miles=0)))
    for params in first:
        assert upload(volt.token, params).content == b"OK!"
    # A second drive later in time that starts from the first one's starting odometer (12,000 mi).
    again = list(drive_readings(DrivePlan(session="two", start=START + timedelta(hours=3), electric_miles=5,
                                          gas_miles=0)))
    wide_events.lines.clear()
    answer = upload(volt.token, again[0])
    assert answer.status_code == 400
    body = answer.json()["error"]
    assert body["code"] == "E309" and "5.0 mi less than the vehicle's reading before it" in body["message"]
    [event] = wide_events.events
    assert event["error"]["code"] == "E309" and event["http"]["status_code"] == 400
    assert Reading.objects.filter(vehicle=volt.vehicle).count() == len(first)  # nothing stored, nothing lost
    # The same drive continuing from where the first ended is accepted.
    onward = DrivePlan(session="two", start=START + timedelta(hours=3), electric_miles=5, gas_miles=0,
                       start_odometer_miles=12_005.0)
    assert all(upload(volt.token, p).content == b"OK!" for p in drive_readings(onward))


@pytest.mark.django_db
def test_a_late_reading_is_judged_where_it_belongs_in_time(volt, upload) -> None:
    later = DrivePlan(session="later", start=START + timedelta(hours=5), electric_miles=2, gas_miles=0,
                      start_odometer_miles=12_010.0)
    for params in drive_readings(later):
        assert upload(volt.token, params).content == b"OK!"
    # An earlier drive arrives late: its odometer is below the later one's, as it should be.
    earlier = DrivePlan(session="earlier", start=START, electric_miles=2, gas_miles=0)
    assert all(upload(volt.token, p).content == b"OK!" for p in drive_readings(earlier))
    # A late reading dated before the later drive but reading beyond it contradicts the timeline.
    wrong = next(drive_readings(DrivePlan(session="wrong", start=START + timedelta(hours=1), electric_miles=1,
                                          gas_miles=0, start_odometer_miles=12_050.0)))
    answer = upload(volt.token, wrong)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "E309"
    assert "more than the vehicle's reading after it" in answer.json()["error"]["message"]


@pytest.mark.django_db
def test_the_neighbours_ride_in_the_vehicle_query(volt, django_assert_num_queries) -> None:
    from telemetry.tokens import token_hash
    from telemetry.upload_sql import vehicle_and_trip_by_token_hash
    from tests.factories import trip_make

    trip = trip_make(volt.vehicle, START)
    for minute, odometer in ((0, 100.0), (10, None), (20, 110.0), (30, 120.0)):
        Reading.objects.create(vehicle=volt.vehicle, trip=trip, session=trip.session,
                               recorded_at=START + timedelta(minutes=minute), odometer_miles=odometer)
    with django_assert_num_queries(1):  # vehicle, stats, trip and both odometers in one statement
        target = vehicle_and_trip_by_token_hash(token_hash(volt.token), trip_key="none", at=START + timedelta(minutes=15))
    assert target.vehicle is not None
    assert (target.vehicle.pk, target.odometer_before, target.odometer_after) == (volt.vehicle.pk, 100.0, 110.0)
    at_reading = vehicle_and_trip_by_token_hash(token_hash(volt.token), trip_key="none", at=START + timedelta(minutes=20))
    assert (at_reading.odometer_before, at_reading.odometer_after) == (100.0, 120.0)  # its own time excluded
    unchecked = vehicle_and_trip_by_token_hash(token_hash(volt.token), trip_key="none")
    assert (unchecked.odometer_before, unchecked.odometer_after) == (None, None)
