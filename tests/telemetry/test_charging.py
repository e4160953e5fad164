"""Charging sessions built from real uploads against the real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from logging_policy.sampling import decide, default_policy
from telemetry.drive_sim import ChargePlan, DrivePlan, charge_readings, drive_readings
from telemetry.models import ChargingSession, Trip, VehicleStats
from telemetry.stats import vehicle_stats_refresh_all
from telemetry.tasks import trips_close_stale
from telemetry.trips import trip_finalize
from tests.telemetry.budget import steady_upload_queries

pytestmark = pytest.mark.django_db
EVENING = datetime(2026, 3, 2, 19, 30, tzinfo=UTC)


def send_all(upload, token: str, readings) -> int:
    count = 0
    for params in readings:
        assert upload(token, params).content == b"OK!"
        count += 1
    return count


def test_l2_evening_charge_gives_the_right_kwh_and_level(volt, upload) -> None:
    plan = ChargePlan(session="c-1", start=EVENING, start_soc=20, end_soc=90, charger_kw=3.3, step_seconds=60)
    sent = send_all(upload, volt.token, charge_readings(plan))
    session = ChargingSession.objects.get()
    assert session.kwh_added == pytest.approx(plan.expected_kwh, rel=0.05)
    assert session.kwh_source == "charger_power"
    assert session.level == "L2"
    assert session.start_soc == pytest.approx(20.0) and session.end_soc == pytest.approx(90.0, abs=0.01)
    assert session.peak_power_kw == pytest.approx(3.3) and session.avg_power_kw == pytest.approx(3.3, rel=0.01)
    assert session.reading_count == sent and session.is_complete is False
    assert (session.latitude, session.longitude) == (42.331, -83.051)
    assert 2 <= len(session.power_curve) <= 240
    assert (session.ended_at - session.started_at).total_seconds() == pytest.approx(plan.charge_seconds, abs=1)


def test_without_charger_power_the_battery_power_is_integrated(volt, upload) -> None:
    plan = ChargePlan(session="c-2", start=EVENING, start_soc=60, step_seconds=60,
                      report_charger_power=False)
    send_all(upload, volt.token, charge_readings(plan))
    session = ChargingSession.objects.get()
    assert session.kwh_source == "battery_power"
    assert session.kwh_added == pytest.approx(plan.battery_kwh, rel=0.05)


def test_dcfc_rate_session_is_classified_dcfc(volt, upload) -> None:
    plan = ChargePlan(session="c-3", start=EVENING, start_soc=10, end_soc=80, charger_kw=50.0, efficiency=0.95,
                      step_seconds=20)
    send_all(upload, volt.token, charge_readings(plan))
    session = ChargingSession.objects.get()
    assert session.level == "DCFC"
    assert session.kwh_added == pytest.approx(plan.expected_kwh, rel=0.05)


def test_a_charge_logged_every_five_minutes_is_one_session_with_its_energy(volt, upload) -> None:
    plan = ChargePlan(session="c-3", start=EVENING, start_soc=20, end_soc=90, step_seconds=300)
    sent = send_all(upload, volt.token, charge_readings(plan))
    session = ChargingSession.objects.get()
    assert (session.reading_count, session.is_complete) == (sent, False)
    assert session.kwh_added == pytest.approx(plan.expected_kwh, rel=0.05)
    trip_finalize(trip_id=Trip.objects.get().pk)  # the replay agrees
    assert ChargingSession.objects.get().kwh_added == pytest.approx(session.kwh_added)


def test_interrupted_and_resumed_within_the_charging_gap_is_one_session(volt, upload, settings) -> None:
    settings.CHARGING_GAP_SECONDS = 1800
    plan = ChargePlan(session="c-4", start=EVENING, start_soc=60, step_seconds=60, gap=(1800, 1500))
    send_all(upload, volt.token, charge_readings(plan))
    # And a pause with readings: plugged in, charger at 0 kW for 90 s, then charging again.
    later = ChargePlan(session="c-4", start=EVENING + timedelta(seconds=plan.charge_seconds + 90), start_soc=90,
                       end_soc=92, step_seconds=30)
    paused = {**next(charge_readings(plan)), "time": str(int((EVENING.timestamp() + plan.charge_seconds + 45) * 1000)),
              "k22006e": "0", "k22000b": "0"}
    assert upload(volt.token, paused).content == b"OK!"
    send_all(upload, volt.token, charge_readings(later))
    session = ChargingSession.objects.get()
    assert session.kwh_added == pytest.approx(plan.expected_kwh + later.expected_kwh, rel=0.05)
    assert session.end_soc == pytest.approx(92.0, abs=0.01)


def test_a_charge_resumed_after_the_charging_gap_is_a_new_session(volt, upload, settings) -> None:
    settings.CHARGING_GAP_SECONDS = 1800
    send_all(upload, volt.token, charge_readings(ChargePlan(session="c-5", start=EVENING, start_soc=40, step_seconds=60,
                                                            gap=(1800, 2400))))
    sessions = list(ChargingSession.objects.order_by("started_at"))
    assert len(sessions) == 2
    assert sessions[0].is_complete and sessions[0].closed_reason == "stale"
    assert not sessions[1].is_complete


def test_retried_uploads_do_not_double_kwh(volt, upload) -> None:
    plan = ChargePlan(session="c-6", start=EVENING, start_soc=75, step_seconds=60)
    readings = list(charge_readings(plan))
    send_all(upload, volt.token, readings)
    before = ChargingSession.objects.get()
    send_all(upload, volt.token, readings)  # every upload retried
    send_all(upload, volt.token, readings[:5])
    after = ChargingSession.objects.get()
    assert after.kwh_added == pytest.approx(before.kwh_added)
    assert after.kwh_added == pytest.approx(plan.expected_kwh, rel=0.05)
    assert after.reading_count == len(readings)


def test_driving_off_closes_the_session_even_in_a_new_torque_session(volt, upload, django_assert_num_queries) -> None:
    plan = ChargePlan(session="c-7", start=EVENING, start_soc=80, step_seconds=60)
    send_all(upload, volt.token, charge_readings(plan))
    drive = DrivePlan(session="d-7", start=EVENING + timedelta(hours=8), electric_miles=2, gas_miles=0,
                      start_odometer_miles=plan.odometer_miles)
    readings = drive_readings(drive)
    assert upload(volt.token, next(readings)).content == b"OK!"
    session = ChargingSession.objects.get()
    assert session.is_complete and session.closed_reason == "drove_off"
    assert not Trip.objects.filter(charging_session__isnull=False).exists()
    with django_assert_num_queries(steady_upload_queries()):
        # Once closed, driving costs nothing extra: 1 vehicle with its trip, 2 INSERT reading + UPDATE trip
        # in one statement (SQLite: two)
        assert upload(volt.token, next(readings)).content == b"OK!"


def test_beat_closes_a_session_with_no_upload_for_the_charging_gap(volt, upload, settings) -> None:
    settings.CHARGING_GAP_SECONDS = 1800
    plan = ChargePlan(session="c-8", start=EVENING, start_soc=80, step_seconds=60)
    send_all(upload, volt.token, charge_readings(plan))
    assert trips_close_stale() == 0  # the trip is fresh too: nothing to close yet
    assert ChargingSession.objects.get().is_complete is False
    ChargingSession.objects.update(last_received_at=timezone.now() - timedelta(minutes=10))
    trips_close_stale()
    assert ChargingSession.objects.get().is_complete is False  # a phone may log every few minutes
    ChargingSession.objects.update(last_received_at=timezone.now() - timedelta(minutes=31))
    trips_close_stale()
    session = ChargingSession.objects.get()
    assert session.is_complete and session.closed_reason == "stale" and session.closed_at is not None
    assert Trip.objects.get().charging_session_id is None


def test_session_start_is_a_business_fact_kept_by_the_default_policy(volt, upload, wide_events) -> None:
    readings = list(charge_readings(ChargePlan(session="c-9", start=EVENING, step_seconds=60)))
    parked = {**readings[0], "k220057": "0", "k22006e": "0", "k22000b": "0.2",
              "time": str(int(EVENING.timestamp() * 1000) - 10_000)}
    send_all(upload, volt.token, [parked, *readings[:3]])
    events = wide_events.events
    assert [e["business"] for e in events] == [{"trip_created": True}, {"charging_session_started": True}, {}, {}]
    started = events[1]
    assert started["charging"]["session_id"] == ChargingSession.objects.get().pk
    assert started["charging"]["level"] == "L2"
    decision = decide(default_policy(), started)
    assert decision.keep and decision.reason == "critical_event"
    assert decide(default_policy(), {**started, "business": {}}).reason != "critical_event"


def test_charging_upload_query_budget(volt, upload, django_assert_num_queries) -> None:
    readings = charge_readings(ChargePlan(session="c-10", start=EVENING, step_seconds=60))
    upload(volt.token, next(readings))  # opens the trip and the session
    upload(volt.token, next(readings))
    with django_assert_num_queries(6):
        # 1 the session's trip by the cached vehicle's id and token hash, 2 INSERT reading ON CONFLICT DO
        # NOTHING (the session's writes wait for it: never for a duplicate), 3 the trips to lock first (this
        # one and those carrying the open session), 4 open session by the trip's link, locked (FOR UPDATE),
        # 5 UPDATE session, 6 UPDATE trip counters, gas state, fuel window
        assert upload(volt.token, next(readings)).content == b"OK!"


def test_lifetime_charging_totals_from_uploaded_charges(new_vehicle, upload) -> None:
    a, b = new_vehicle("A"), new_vehicle("B")
    one = ChargePlan(session="t-1", start=EVENING, start_soc=75, step_seconds=60)
    two = ChargePlan(session="t-2", start=EVENING + timedelta(days=1), start_soc=80, end_soc=90, step_seconds=60)
    send_all(upload, a.token, charge_readings(one))
    send_all(upload, a.token, charge_readings(two))
    vehicle_stats_refresh_all()
    totals = {s.vehicle_id: (s.charging_sessions, s.kwh_charged) for s in VehicleStats.objects.all()}
    assert totals[a.vehicle.pk] == (2, pytest.approx(one.expected_kwh + two.expected_kwh, rel=0.05))
    assert totals[b.vehicle.pk] == (0, 0.0)


@pytest.mark.django_db(transaction=True)  # the upload's own transaction must be the outermost one
def test_an_upload_whose_transaction_rolls_back_claims_no_charging_session(volt, upload, wide_events) -> None:
    readings = list(charge_readings(ChargePlan(session="c-11", start=EVENING, step_seconds=60)))
    parked = {**readings[0], "k220057": "0", "k22006e": "0", "k22000b": "0.2",
              "time": str(int(EVENING.timestamp() * 1000) - 10_000)}
    assert upload(volt.token, parked).content == b"OK!"
    with connection.cursor() as cursor:  # PostgreSQL refuses the trip's counter UPDATE, after the session INSERT
        cursor.execute(f"""
            CREATE FUNCTION refuse_trip_count() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'trip update refused'; END $$;
            CREATE TRIGGER refuse_trip_count BEFORE UPDATE ON {Trip._meta.db_table} FOR EACH ROW
            WHEN (NEW.reading_count > OLD.reading_count) EXECUTE FUNCTION refuse_trip_count();
        """)
    try:
        refused = upload(volt.token, readings[0])
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER refuse_trip_count ON {Trip._meta.db_table}; DROP FUNCTION refuse_trip_count();")
    assert refused.status_code == 503 and not ChargingSession.objects.exists()
    failed = wide_events.events[-1]
    assert (failed["success"], failed["error"]["code"], failed["business"]) == (False, "E202", {})
    assert "charging" not in failed and failed["telemetry"].get("stored") is not True
    assert upload(volt.token, readings[0]).content == b"OK!"  # the retry stores it and opens the session
    assert wide_events.events[-1]["business"] == {"charging_session_started": True}
    assert ChargingSession.objects.count() == 1


@pytest.mark.django_db(transaction=True)  # the beat's task runs in autocommit, not inside a test's transaction
def test_the_sweep_waits_the_charging_gap_for_a_charging_trip_then_closes_both(volt, upload, settings) -> None:
    settings.TRIP_STALE_SECONDS, settings.CHARGING_GAP_SECONDS = 120, 1800
    send_all(upload, volt.token, charge_readings(ChargePlan(session="c-9", start=EVENING, start_soc=80,
                                                            step_seconds=300)))
    trip = Trip.objects.get()
    Trip.objects.update(last_received_at=timezone.now() - timedelta(minutes=10))
    ChargingSession.objects.update(last_received_at=timezone.now() - timedelta(minutes=10))
    assert trips_close_stale() == 0  # a phone logging a charge every 5 minutes: neither is stale yet
    assert (Trip.objects.get().is_closed, ChargingSession.objects.get().is_complete) == (False, False)
    Trip.objects.update(last_received_at=timezone.now() - timedelta(minutes=31))
    ChargingSession.objects.update(last_received_at=timezone.now() - timedelta(minutes=31))
    assert trips_close_stale() == 1
    session = ChargingSession.objects.get()
    assert (session.is_complete, session.closed_reason, Trip.objects.get(pk=trip.pk).is_closed) == (True, "stale", True)
    assert Trip.objects.get(pk=trip.pk).charging_session_id is None
