"""Issue 21's "Done when" on the real logs: all ten replayed through the upload path, then finalized.

The replay takes about a minute (about 11,400 uploads through the Django test client), so it runs once
for the module and every test reads the trips it made.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from telemetry.models import ChargingSession, Refuel, Trip, Vehicle, VehicleStats
from telemetry.stats import vehicle_stats_refresh
from telemetry.tracklog_import import tracklog_import_path
from telemetry.trips import trip_finalize
from telemetry.vehicles import vehicle_create
from tests.conftest import FormClient
from tests.realdata import LOG_FILES, PACIFIC, REALDATA, log_uploads

# pytest-django creates the test database for the aliases its marked tests ask for: the module
# fixture below needs it before any test runs.
pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Replayed:
    trips: dict[str, Trip]  # by log file name
    refuels: list[Refuel]
    charging: list[ChargingSession]
    stats: VehicleStats
    imported: dict[str, Trip]  # the same logs through import_tracklog's service, into another vehicle
    split_off: dict[str, list[Trip]]  # by log file name: the trips after a gap in its session
    all_imported: list[Trip]
    all_replayed: list[Trip]


@pytest.fixture(scope="module")
def replayed(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Replayed]:
    assert len(LOG_FILES) == 10, "../shared/realdata/ must hold the ten logs beside the checkout"
    with django_db_blocker.unblock():
        new = vehicle_create(name="Real Volt")
        client = FormClient()
        sessions: dict[str, str] = {}
        for name in LOG_FILES:
            for params in log_uploads(name):
                sessions.setdefault(name, params["session"])
                response = client.post(f"/api/torque/upload/{new.token}", params)
                assert response.status_code == 200, (name, params["time"], response.content)
        for trip_id in Trip.objects.filter(vehicle=new.vehicle).order_by("started_at").values_list("pk", flat=True):
            trip_finalize(trip_id=trip_id)
        vehicle_stats_refresh(vehicle_id=new.vehicle.pk)
        # A session split at a gap (docs/units.md) keeps its first part under the file's name.
        by_session = {t.session: t for t in Trip.objects.filter(vehicle=new.vehicle).order_by("-started_at")}
        twin = vehicle_create(name="Real Volt, imported")
        for name in LOG_FILES:  # oldest first, as docs/import.md asks: refuels carry from trip to trip
            tracklog_import_path(vehicle=twin.vehicle, path=REALDATA / name)
        imported = {t.session: t for t in Trip.objects.filter(vehicle=twin.vehicle).order_by("-started_at")}
        split_off = {name: list(Trip.objects.filter(vehicle=new.vehicle, session=session)
                                .exclude(pk=by_session[session].pk).order_by("started_at"))
                     for name, session in sessions.items()}
        yield Replayed(
            trips={name: by_session[session] for name, session in sessions.items()},
            refuels=list(Refuel.objects.filter(vehicle=new.vehicle).order_by("detected_at")),
            charging=list(ChargingSession.objects.filter(vehicle=new.vehicle)),
            stats=VehicleStats.objects.get(vehicle=new.vehicle),
            imported={name: imported[session] for name, session in sessions.items()},
            split_off={name: trips for name, trips in split_off.items() if trips},
            all_imported=list(Trip.objects.filter(vehicle=twin.vehicle).order_by("started_at")),
            all_replayed=list(Trip.objects.filter(vehicle=new.vehicle).order_by("started_at")),
        )
        Vehicle.objects.filter(pk__in=[new.vehicle.pk, twin.vehicle.pk]).delete()


def _drives(replayed: Replayed) -> dict[str, Trip]:
    return {name: t for name, t in replayed.trips.items() if (t.distance_miles or 0) > 2}


def test_every_log_makes_one_closed_trip_and_overnight_gaps_another(replayed: Replayed) -> None:
    assert len(replayed.trips) == 10
    assert all(t.is_closed and t.is_plausible for t in replayed.all_replayed)
    # Torque's own trip distance (the README's table) where it starts the file at 0. Two files start
    # where Torque's trip counter stood at the end of the previous one and restart it at 0 mid-file:
    # Jan-05_05-01-31 runs 14.23 -> 36.54, restarts, ends at 0.24 (22.55 mi driven in the file);
    # Dec-31_10-26-44 starts at 5.03, restarts at once and ends at 1.15.
    assert {name[9:-4]: round(t.distance_miles or 0, 1) for name, t in replayed.trips.items()} == {
        "2025-Dec-30_05-41-17": 22.2, "2025-Dec-30_17-30-52": 0.0, "2025-Dec-30_17-52-39": 17.4,
        "2025-Dec-30_17-52-46": 4.7, "2025-Dec-31_09-54-18": 2.8, "2025-Dec-31_09-54-26": 2.2,
        "2025-Dec-31_10-26-44": 1.1, "2026-Jan-05_05-01-24": 14.2, "2026-Jan-05_05-01-31": 22.3,
        "2026-Jan-06_04-57-25": 15.0,
    }
    assert len(_drives(replayed)) == 8
    # Two sessions were left running in the parked car: 11.3 h and 9.9 h without a reading. Each is
    # split at its gap: 49 rows at 17:30 (parked, as the next file) and the 95 rows after Torque's
    # trip counter restarted (0.24 mi by Torque's counter, 0.2 by the odometer).
    assert {name[9:-4]: [(t.reading_count, round(t.distance_miles or 0, 1), t.is_drive) for t in trips]
            for name, trips in replayed.split_off.items()} == {
        "2025-Dec-30_05-41-17": [(49, 0.0, False)], "2026-Jan-05_05-01-31": [(95, 0.2, True)],
    }
    assert len(replayed.all_replayed) == 12


def test_charge_sustaining_drives_are_gas_miles(replayed: Replayed) -> None:
    for name, trip in _drives(replayed).items():
        assert trip.soc_source == "k5b", name  # the custom k22005b reads -14..-6 % and is dropped
        assert trip.gas_mode_entered_at is not None, name
        assert trip.gas_miles is not None and trip.distance_miles is not None, name
        assert trip.gas_miles >= trip.distance_miles / 2, (name, trip.gas_miles)
        assert trip.kwh_per_mile is None or trip.kwh_per_mile <= 0.5, (name, trip.kwh_per_mile)
        assert trip.is_drive is True, name


def test_mpg_is_plausible_where_gas_miles_exceed_ten(replayed: Replayed) -> None:
    long_ones = {name: t for name, t in replayed.trips.items() if (t.gas_miles or 0) > 10}
    assert len(long_ones) == 5, sorted(long_ones)
    for name, trip in long_ones.items():
        assert trip.gas_mpg is not None and 15 <= trip.gas_mpg <= 60, (name, trip.gas_mpg, trip.notes)
        assert trip.fuel_used_gallons is not None and trip.fuel_used_gallons > 0.2, name


def test_the_parked_warm_up_is_not_a_drive(replayed: Replayed) -> None:
    parked = replayed.trips["trackLog-2025-Dec-30_17-30-52.csv"]
    assert parked.is_drive is False
    assert (parked.distance_miles or 0) < 0.1
    assert parked.gas_miles in (None, 0)
    assert [name for name, t in replayed.trips.items() if not t.is_drive] == ["trackLog-2025-Dec-30_17-30-52.csv"]


def test_lifetime_figures_count_the_drives_and_call_them_gas(replayed: Replayed) -> None:
    stats = replayed.stats
    # The 8 drives, Jan-05's short drive after its gap and Dec-31_10-26-44 (1.1 mi); the parked warm-up
    # and Dec-30's parked hour after its gap are not drives.
    assert stats.total_trips == 10
    assert stats.total_miles == pytest.approx(sum(t.distance_miles or 0 for t in replayed.all_replayed), abs=0.01)
    assert stats.electric_share is not None and stats.electric_share < 0.05
    assert stats.lifetime_mpg is not None and 20 <= stats.lifetime_mpg <= 50


def test_the_two_refuels_are_found_once_each(replayed: Replayed) -> None:
    found = [(r.detected_at.astimezone(PACIFIC), r.level_before, r.level_after, r.gallons_added)
             for r in replayed.refuels]
    assert len(found) == 2, found
    (first_at, first_before, first_after, first_gal), (second_at, second_before, second_after, _) = found
    # README: 2025-12-31 about 10:00, about 4 -> 8.7 gal of the 8.9 gal tank (45 -> 98 %).
    assert datetime(2025, 12, 31, 9, 55, tzinfo=PACIFIC) <= first_at <= datetime(2025, 12, 31, 10, 11, tzinfo=PACIFIC)
    assert 40 <= first_before <= 52 and 90 <= first_after <= 100
    assert first_gal == pytest.approx((first_after - first_before) / 100 * 8.9, abs=0.01)
    # README: inside 2026-Jan-06_04-57-25, about 1.5 -> 8.8 gal (17 -> 99 %).
    assert datetime(2026, 1, 6, 4, 57, tzinfo=PACIFIC) <= second_at <= datetime(2026, 1, 6, 5, 15, tzinfo=PACIFIC)
    assert 8 <= second_before <= 25 and 90 <= second_after <= 100


def test_no_charging_session_on_logs_without_a_charger(replayed: Replayed) -> None:
    # No log plugs in (no charger PID uploaded); regen at a stop is not a charge.
    assert replayed.charging == []


# Set by the server's clock or by the row's identity, not by the readings.
_NOT_RESULTS = {"id", "vehicle_id", "last_received_at", "finalized_at", "weather_attempted_at",
                "finalize_queued_at"}


def test_the_same_logs_imported_give_the_same_trips(replayed: Replayed) -> None:
    def results(trip: Trip) -> dict[str, Any]:
        return {f.attname: getattr(trip, f.attname) for f in Trip._meta.concrete_fields
                if f.attname not in _NOT_RESULTS}

    assert set(replayed.imported) == set(replayed.trips)
    for name, trip in replayed.trips.items():
        assert results(replayed.imported[name]) == results(trip), name
    assert [results(t) for t in replayed.all_imported] == [results(t) for t in replayed.all_replayed]
