"""The upload's hand-built statements read and write exactly what the ORM would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import Model
from django.utils import timezone

from telemetry.models import Reading, Trip, Vehicle, VehicleStats
from telemetry.tokens import token_hash
from telemetry.upload_sql import (
    reading_insert, reading_insert_and_count, trip_by_key, trip_counters_update, vehicle_and_trip_by_token_hash,
    vehicle_by_token_hash,
)

pytestmark = pytest.mark.django_db
AT = datetime(2026, 3, 2, 17, 45, tzinfo=UTC)


def _fields(instance: object, model: type[Model]) -> dict[str, object]:
    return {f.attname: getattr(instance, f.attname) for f in model._meta.concrete_fields}


def test_vehicle_with_stats_equals_the_orm_and_its_stats_cost_no_query(volt, django_assert_num_queries) -> None:
    VehicleStats.objects.create(vehicle=volt.vehicle, total_trips=42, total_miles=1234.5, refreshed_at=timezone.now(),
                                first_trip_at=AT)
    expected = Vehicle.objects.select_related("stats").get(pk=volt.vehicle.pk)
    with django_assert_num_queries(1):  # the vehicle joined with its stats row
        vehicle = vehicle_by_token_hash(token_hash(volt.token))
        assert vehicle is not None
        stats = vehicle.stats
    assert _fields(vehicle, Vehicle) == _fields(expected, Vehicle)
    assert _fields(stats, VehicleStats) == _fields(expected.stats, VehicleStats)
    assert vehicle._state.adding is False and stats.vehicle is vehicle


def test_vehicle_without_stats_says_so_without_a_query(volt, django_assert_num_queries) -> None:
    with django_assert_num_queries(1):  # the vehicle; the missing stats row is known from the join
        vehicle = vehicle_by_token_hash(token_hash(volt.token))
        assert vehicle is not None
        with pytest.raises(VehicleStats.DoesNotExist):
            vehicle.stats  # noqa: B018


def test_unknown_token_hash_is_none(volt) -> None:
    assert vehicle_by_token_hash(token_hash("not-" + volt.token)) is None


def test_trip_by_key_equals_the_orm_with_json_decoded(volt) -> None:
    trip = Trip.objects.create(vehicle=volt.vehicle, session="s", trip_key="k", started_at=AT, last_reading_at=AT,
                               last_received_at=AT, fuel_window=[[1, 60.0]], notes={"x": "E403"})
    found = trip_by_key(vehicle_id=volt.vehicle.pk, trip_key="k")
    assert found is not None
    assert _fields(found, Trip) == _fields(Trip.objects.get(pk=trip.pk), Trip)
    assert found.fuel_window == [[1, 60.0]] and found.notes == {"x": "E403"}
    assert trip_by_key(vehicle_id=volt.vehicle.pk, trip_key="other") is None


def test_reading_insert_stores_once_and_reports_the_duplicate(volt) -> None:
    trip = Trip.objects.create(vehicle=volt.vehicle, session="s", trip_key="k", started_at=AT, last_reading_at=AT,
                               last_received_at=AT)

    def reading() -> Reading:
        return Reading(vehicle=volt.vehicle, trip=trip, session="s", recorded_at=AT, soc_pct=79.5, engine_rpm=None,
                       raw={"kff1234": "7"}, rejected={"kd": "out_of_range"})

    first = reading_insert(reading())
    assert first is not None and reading_insert(reading()) is None
    stored = Reading.objects.get(pk=first)
    assert (stored.soc_pct, stored.engine_rpm, stored.raw, stored.rejected) == (79.5, None, {"kff1234": "7"},
                                                                                {"kd": "out_of_range"})
    assert stored.received_at is not None


def test_trip_counters_widen_the_span_and_count(volt) -> None:
    trip = Trip.objects.create(vehicle=volt.vehicle, session="s", trip_key="k", started_at=AT, last_reading_at=AT,
                               last_received_at=AT)
    now = timezone.now()
    trip_counters_update(trip_id=trip.pk, at=AT - timedelta(minutes=5), received_at=now,
                         also={"fuel_window": [[1, 2.0]], "charging_session_id": None})
    trip_counters_update(trip_id=trip.pk, at=AT + timedelta(minutes=1), received_at=now, also={})
    trip.refresh_from_db()
    assert trip.started_at == AT - timedelta(minutes=5) and trip.last_reading_at == AT + timedelta(minutes=1)
    assert trip.reading_count == 2 and trip.fuel_window == [[1, 2.0]] and trip.last_received_at == now


def test_vehicle_and_trip_equal_the_orm_in_one_query(volt, django_assert_num_queries) -> None:
    VehicleStats.objects.create(vehicle=volt.vehicle, total_trips=3, total_miles=12.5, refreshed_at=timezone.now(),
                                first_trip_at=AT)
    trip = Trip.objects.create(vehicle=volt.vehicle, session="s", trip_key="k", started_at=AT, last_reading_at=AT,
                               last_received_at=AT, fuel_window=[[1, 60.0]], notes={"x": "E403"})
    with django_assert_num_queries(1):  # vehicle, stats row and the trip of the key, joined
        vehicle, found, _, _ = vehicle_and_trip_by_token_hash(token_hash(volt.token), trip_key="k")
        assert vehicle is not None and found is not None
        assert vehicle.stats.total_trips == 3 and found.vehicle is vehicle
    assert _fields(vehicle, Vehicle) == _fields(Vehicle.objects.get(pk=volt.vehicle.pk), Vehicle)
    assert _fields(found, Trip) == _fields(Trip.objects.get(pk=trip.pk), Trip)
    assert found.fuel_window == [[1, 60.0]] and found._state.adding is False
    vehicle, missing, _, _ = vehicle_and_trip_by_token_hash(token_hash(volt.token), trip_key="other")
    assert vehicle is not None and vehicle.pk == volt.vehicle.pk and missing is None
    assert vehicle_and_trip_by_token_hash(token_hash("not-" + volt.token), trip_key="k") == (None, None, None, None)


def test_reading_insert_and_count_writes_both_once(volt, django_assert_num_queries) -> None:
    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL (set DATABASE_URL): SQLite has no INSERT in a WITH clause")
    trip = Trip.objects.create(vehicle=volt.vehicle, session="s", trip_key="k", started_at=AT, last_reading_at=AT,
                               last_received_at=AT)
    later, now = AT + timedelta(seconds=5), timezone.now()

    def store() -> int | None:
        row = {"vehicle_id": volt.vehicle.pk, "trip_id": trip.pk, "session": "s", "recorded_at": later,
               "received_at": now, "soc_pct": 79.5, "raw": {"kff1234": "7"}, "rejected": {}}
        with django_assert_num_queries(1):
            return reading_insert_and_count(row, at=later, received_at=now,
                                            also={"fuel_window": [[1, 2.0]], "engine_on_soc": 79.5})

    first = store()
    assert first is not None and Reading.objects.get().pk == first
    stored = Reading.objects.get()
    assert (stored.vehicle_id, stored.trip_id, stored.session, stored.recorded_at, stored.received_at) == (
        volt.vehicle.pk, trip.pk, "s", later, now)
    assert (stored.soc_pct, stored.engine_rpm, stored.raw, stored.rejected) == (79.5, None, {"kff1234": "7"}, {})
    trip.refresh_from_db()
    assert (trip.reading_count, trip.last_reading_at, trip.started_at, trip.last_received_at) == (1, later, AT, now)
    assert trip.fuel_window == [[1, 2.0]] and trip.engine_on_soc == 79.5
    Trip.objects.filter(pk=trip.pk).update(fuel_window=[])
    assert store() is None  # the duplicate: neither stored nor counted, the trip left alone
    trip.refresh_from_db()
    assert Reading.objects.count() == 1 and trip.reading_count == 1 and trip.fuel_window == []
