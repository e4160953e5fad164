"""Charging sessions repaired at trip finalization from real out-of-order uploads, against the real database."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from logging_policy.current import event_bound
from logging_policy.events import WideEvent
from logging_policy.sampling import decide, default_policy
from telemetry.charging import charging_sessions_close_stale
from telemetry.charging_replay import CHARGE_FIELDS, charge_readings, charging_sessions_replay
from telemetry.drive_sim import ChargePlan, DrivePlan, charge_readings as charge_uploads, drive_readings
from telemetry.models import ChargingSession, Reading, Trip
from telemetry.tasks import trip_finalize_task
from telemetry.trips import trip_finalize

pytestmark = pytest.mark.django_db
EVENING = datetime(2026, 3, 2, 19, 30, tzinfo=UTC)
# An L2 charge from 20 % to 90 % (about 3 h 16 min), a reading every 90 s: within the stale window.
PLAN = ChargePlan(session="r-1", start=EVENING, start_soc=20, end_soc=90, charger_kw=3.3, step_seconds=90)
FIGURES = ("started_at", "ended_at", "start_soc", "end_soc", "kwh_added", "kwh_source", "peak_power_kw",
           "avg_power_kw", "level", "reading_count", "latitude", "longitude")
NOTHING_TO_DO = {"sessions": 1, "added": 0, "repaired": 0, "merged": 0, "kwh_change": 0.0}


def send(upload, token: str, readings: Iterable[dict[str, str]]) -> None:
    for params in readings:
        assert upload(token, params).content == b"OK!"


def finalize(trip_id: int) -> WideEvent:
    event = WideEvent(operation="trip_finalize", kind="task")
    with event_bound(event):
        trip_finalize(trip_id=trip_id)
    return event


def figures(session: ChargingSession) -> tuple[Any, ...]:
    return tuple(getattr(session, name) for name in FIGURES)


@pytest.fixture
def in_order(new_vehicle, upload) -> ChargingSession:
    """PLAN uploaded in order by another car and finalized: what every order must come to."""
    other = new_vehicle("In order")
    send(upload, other.token, charge_uploads(PLAN))
    finalize(Trip.objects.get(vehicle=other.vehicle).pk)
    return ChargingSession.objects.get(vehicle=other.vehicle)


def test_a_charge_uploaded_newest_first_is_one_session_with_the_in_order_kwh(volt, upload, in_order) -> None:
    readings = list(charge_uploads(PLAN))
    send(upload, volt.token, reversed(readings))  # Torque flushing its backlog newest first
    live = ChargingSession.objects.get(vehicle=volt.vehicle)
    assert (live.reading_count, live.kwh_added) == (1, 0.0)  # the uploads alone saw one reading

    event = finalize(Trip.objects.get(vehicle=volt.vehicle).pk)
    session = ChargingSession.objects.get(vehicle=volt.vehicle)
    assert session.pk == live.pk and session.is_complete is False  # the open row, rewritten
    assert session.kwh_added == pytest.approx(in_order.kwh_added, rel=0.05)
    assert session.kwh_added == pytest.approx(PLAN.expected_kwh, rel=0.05)
    assert figures(session) == figures(in_order)
    assert session.reading_count == len(readings) and session.level == "L2"
    assert event.data["charging"]["replayed"] == {"sessions": 1, "added": 0, "repaired": 1, "merged": 0,
                                                  "kwh_change": pytest.approx(session.kwh_added, abs=1e-3)}


@pytest.mark.parametrize("seed", [7, 2026])
def test_a_charge_uploaded_shuffled_is_one_session_with_the_in_order_kwh(volt, upload, in_order, seed) -> None:
    readings = list(charge_uploads(PLAN))
    random.Random(seed).shuffle(readings)
    send(upload, volt.token, readings)
    # Only readings newer than all before them counted, and the gaps between them split the charge.
    live = list(ChargingSession.objects.filter(vehicle=volt.vehicle))
    assert sum(s.reading_count for s in live) < len(readings)
    [still_open] = [s for s in live if not s.is_complete]

    event = finalize(Trip.objects.get(vehicle=volt.vehicle).pk)
    session = ChargingSession.objects.get(vehicle=volt.vehicle)
    assert session.pk == still_open.pk
    assert event.data["charging"]["replayed"]["merged"] == len(live) - 1
    assert session.kwh_added == pytest.approx(in_order.kwh_added, rel=0.05)
    assert figures(session) == figures(in_order)


def test_finalizing_again_or_after_a_late_reading_does_not_double(volt, upload) -> None:
    readings = list(charge_uploads(PLAN))
    held_back = readings.pop(0)
    send(upload, volt.token, reversed(readings))
    trip = Trip.objects.get()
    finalize(trip.pk)
    first = ChargingSession.objects.get()
    assert first.started_at == EVENING + timedelta(seconds=PLAN.step_seconds)

    Trip.objects.filter(pk=trip.pk).update(is_closed=False)  # finalized a second time
    assert finalize(trip.pk).data["charging"]["replayed"] == NOTHING_TO_DO
    assert figures(ChargingSession.objects.get()) == figures(first)

    send(upload, volt.token, [held_back])  # the oldest, late: reopens the trip, not counted as it arrives
    trip.refresh_from_db()
    assert trip.is_closed is False
    assert figures(ChargingSession.objects.get()) == figures(first)
    finalize(trip.pk)
    final = ChargingSession.objects.get()
    assert (final.pk, final.started_at, final.reading_count) == (first.pk, EVENING, first.reading_count + 1)
    # One more interval at 3.3 kW, once.
    assert final.kwh_added is not None and first.kwh_added is not None
    assert final.kwh_added == pytest.approx(first.kwh_added + 3.3 * PLAN.step_seconds / 3600, abs=1e-3)


def test_an_in_order_charge_is_untouched_by_the_replay(volt, upload) -> None:
    send(upload, volt.token, charge_uploads(PLAN))
    before = ChargingSession.objects.values().get()
    event = finalize(Trip.objects.get().pk)
    assert ChargingSession.objects.values().get() == before  # same row, every column as it was
    assert event.data["charging"]["replayed"] == NOTHING_TO_DO


def test_a_charge_the_uploads_missed_is_stored_closed_and_kept_by_the_policy(volt, upload, wide_events) -> None:
    charge = ChargePlan(session="r-5", start=EVENING, start_soc=60, end_soc=80, step_seconds=60)
    drive = DrivePlan(session="r-5", start=EVENING + timedelta(seconds=charge.charge_seconds + 120),
                      electric_miles=2, gas_miles=0, start_odometer_miles=charge.odometer_miles)
    # Newest first, the first upload is a moving one: no session opens, and every older one is late.
    send(upload, volt.token, reversed([*charge_uploads(charge), *drive_readings(drive)]))
    assert ChargingSession.objects.count() == 0

    wide_events.lines.clear()
    trip_finalize_task.apply(args=(Trip.objects.get().pk,))
    session = ChargingSession.objects.get()
    assert (session.is_complete, session.closed_reason, session.started_at) == (True, "drove_off", EVENING)
    assert session.kwh_added == pytest.approx(charge.expected_kwh, rel=0.05)
    assert (session.latitude, session.longitude) == (42.331, -83.051)
    assert Trip.objects.get().charging_session_id is None
    [event] = [e for e in wide_events.events if e["operation"] == "trip_finalize"]
    assert event["charging"]["replayed"] == {"sessions": 1, "added": 1, "repaired": 0, "merged": 0,
                                             "kwh_change": pytest.approx(session.kwh_added, abs=1e-3)}
    assert event["business"]["charging_session_started"] is True
    assert decide(default_policy(), event).reason == "critical_event"


def split(session_b: str) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """PLAN logged in two Torque sessions: Torque restarted its log halfway through the charge."""
    readings = list(charge_uploads(PLAN))
    half = len(readings) // 2
    return readings[:half], [{**params, "session": session_b} for params in readings[half:]]


def test_a_charge_split_across_torque_sessions_in_order_stays_as_it_is(volt, upload) -> None:
    first, second = split("r-7b")
    send(upload, volt.token, first)
    send(upload, volt.token, second)
    before = ChargingSession.objects.values().get()
    assert before["reading_count"] == len(first) + len(second)
    for trip in Trip.objects.order_by("started_at"):
        assert finalize(trip.pk).data["charging"]["replayed"] == NOTHING_TO_DO
    assert ChargingSession.objects.values().get() == before


def test_a_charge_split_by_an_upload_newest_first_is_merged_into_one(volt, upload, in_order) -> None:
    first, second = split("r-8b")
    send(upload, volt.token, first)
    send(upload, volt.token, reversed(second))
    # Live: the first half, closed as stale by the newest reading of the second, which opened its own.
    stale, newest = ChargingSession.objects.filter(vehicle=volt.vehicle).order_by("started_at")
    assert (stale.closed_reason, newest.reading_count, newest.is_complete) == ("stale", 1, False)

    trip_a, trip_b = Trip.objects.filter(vehicle=volt.vehicle).order_by("started_at")
    assert finalize(trip_a.pk).data["charging"]["replayed"] == NOTHING_TO_DO  # its half is right
    replayed = finalize(trip_b.pk).data["charging"]["replayed"]
    assert (replayed["repaired"], replayed["merged"]) == (1, 1)
    session = ChargingSession.objects.get(vehicle=volt.vehicle)
    assert session.pk == newest.pk and session.is_complete is False  # the open row, still advanced by uploads
    assert figures(session) == figures(in_order)
    assert session.kwh_added is not None and stale.kwh_added is not None
    assert replayed["kwh_change"] == pytest.approx(session.kwh_added - stale.kwh_added, abs=1e-3)
    Trip.objects.filter(pk=trip_b.pk).update(is_closed=False)
    assert finalize(trip_b.pk).data["charging"]["replayed"] == NOTHING_TO_DO
    assert ChargingSession.objects.filter(vehicle=volt.vehicle).get().pk == newest.pk



def test_a_charge_whose_first_torque_session_arrives_late_newest_first_is_one_session(volt, upload, in_order) -> None:
    first, second = split("r-9b")
    send(upload, volt.token, second)  # the live Torque session, in order
    send(upload, volt.token, reversed(first))  # then the old one's backlog, newest first: all behind newer ones
    live = ChargingSession.objects.get(vehicle=volt.vehicle)
    assert (live.reading_count, live.is_complete) == (len(second), False)
    trip_a, trip_b = Trip.objects.filter(vehicle=volt.vehicle).order_by("started_at")
    assert trip_b.pk < trip_a.pk  # the sweep finalizes in pk order: the later half first

    assert finalize(trip_b.pk).data["charging"]["replayed"] == NOTHING_TO_DO  # its half is right
    # The session starts a step after trip A's last reading: within the stale window, so the same charge.
    replayed = finalize(trip_a.pk).data["charging"]["replayed"]
    session = ChargingSession.objects.get(vehicle=volt.vehicle)
    assert session.pk == live.pk and session.is_complete is False
    assert figures(session) == figures(in_order)
    assert session.kwh_added is not None and live.kwh_added is not None
    assert replayed == {"sessions": 1, "added": 0, "repaired": 1, "merged": 0,
                        "kwh_change": pytest.approx(session.kwh_added - live.kwh_added, abs=1e-3)}


@pytest.mark.parametrize("seed", [1, 5, 13, 42, 2026])
def test_a_split_charge_in_any_upload_and_finalization_order_is_the_in_order_session(volt, upload, in_order,
                                                                                   seed) -> None:
    rnd = random.Random(seed)
    readings = list(charge_uploads(PLAN))
    cut = rnd.randrange(2, len(readings) - 2)
    halves = [[{**params, "session": f"r-10-{seed}-{i}"} for params in half]
              for i, half in enumerate((readings[:cut], readings[cut:]))]
    for half in halves:
        order = rnd.choice(("in order", "newest first", "shuffled"))
        if order == "newest first":
            half.reverse()
        elif order == "shuffled":
            rnd.shuffle(half)
    rnd.shuffle(halves)  # either Torque session may upload first
    for half in halves:
        send(upload, volt.token, half)
    if rnd.random() < 0.5:
        charging_sessions_close_stale(now=timezone.now() + timedelta(hours=1))  # the beat ran before the sweep
    trips = list(Trip.objects.filter(vehicle=volt.vehicle))
    rnd.shuffle(trips)
    for trip in trips:
        finalize(trip.pk)
    session = ChargingSession.objects.get(vehicle=volt.vehicle)
    assert figures(session) == figures(in_order)
    for trip in trips:  # settled: finalizing again changes nothing
        Trip.objects.filter(pk=trip.pk).update(is_closed=False)
        assert finalize(trip.pk).data["charging"]["replayed"] == NOTHING_TO_DO


def stored(trip: Trip) -> list[tuple[datetime, dict[str, float]]]:
    fields = ("recorded_at", *CHARGE_FIELDS)
    return charge_readings(Reading.objects.filter(trip=trip).order_by("recorded_at").values_list(*fields), fields)


def test_replay_query_cost(volt, upload, django_assert_num_queries) -> None:
    send(upload, volt.token, drive_readings(DrivePlan(session="q-1", start=EVENING - timedelta(hours=9),
                                                      electric_miles=2, gas_miles=0)))
    send(upload, volt.token, charge_uploads(ChargePlan(session="q-2", start=EVENING - timedelta(hours=6),
                                                       start_soc=70, end_soc=80, step_seconds=60)))
    first, second = split("q-3b")
    send(upload, volt.token, first)
    send(upload, volt.token, second)
    drive, charge, split_a, split_b = Trip.objects.select_related("vehicle").order_by("started_at")
    readings = {trip.pk: stored(trip) for trip in (drive, charge, split_b)}
    with django_assert_num_queries(0):  # no charging reading: nothing to replay
        charging_sessions_replay(trip=drive, readings=readings[drive.pk])
    with django_assert_num_queries(1):
        # 1 the vehicle's sessions touching the trip, locked; within the trip and matching: no write
        charging_sessions_replay(trip=charge, readings=readings[charge.pk])
    with django_assert_num_queries(2):
        # 1 the sessions touching the trip, locked; 2 the readings of the span of the one that started in
        # the trip before (every trip of the vehicle in that span); they match: no write
        charging_sessions_replay(trip=split_b, readings=readings[split_b.pk])
    assert ChargingSession.objects.count() == 2 and split_a.reading_count == len(first)
