"""simulate_drive posts over real HTTP to a live server."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from telemetry.models import PidDescription, Reading, Trip, Vehicle


@pytest.mark.django_db(transaction=True)
def test_simulated_drives_arrive_as_trips_with_gas_mode(live_server) -> None:
    out = StringIO()
    call_command("simulate_drive", url=live_server.url, vehicles=2, trips=2, step=60, electric_miles=8,
                 gas_miles=6, seed=7, stdout=out)
    assert Vehicle.objects.count() == 2
    trips = Trip.objects.all()
    assert trips.count() == 4
    assert all(t.gas_mode_entered_at is not None for t in trips)
    assert Reading.objects.count() == sum(t.reading_count for t in trips)
    assert PidDescription.objects.filter(pid="22005b").count() == 2
    assert f"Posted {Reading.objects.count()} readings in 4 trip(s)" in out.getvalue()
    assert f"{live_server.url}/admin/telemetry/trip/ " in out.getvalue()  # where to look next


@pytest.mark.django_db(transaction=True)
def test_unknown_token_stops_with_a_clear_error(live_server) -> None:
    with pytest.raises(CommandError, match="HTTP 401"):
        call_command("simulate_drive", url=live_server.url, token="nope", step=600, stdout=StringIO())


@pytest.mark.django_db(transaction=True)
def test_a_second_run_continues_after_the_first_from_its_odometer(live_server) -> None:
    from telemetry.vehicles import vehicle_create

    volt = vehicle_create(name="Demo Volt")
    runs = [StringIO(), StringIO()]
    for out in runs:
        call_command("simulate_drive", url=live_server.url, token=volt.token, step=60, electric_miles=8,
                     gas_miles=6, seed=3, stdout=out)
    first, second = Trip.objects.filter(vehicle=volt.vehicle).order_by("started_at")
    assert second.started_at >= first.last_reading_at + timedelta(minutes=10)
    last_of_first = Reading.objects.filter(trip=first).order_by("-recorded_at").first()
    first_of_second = Reading.objects.filter(trip=second).order_by("recorded_at").first()
    assert last_of_first is not None and first_of_second is not None
    assert first_of_second.odometer_miles == pytest.approx(last_of_first.odometer_miles, abs=0.1)
    assert "goes on after its last reading" in runs[1].getvalue() and "Posted" in runs[1].getvalue()
    # A third drive would have to end after now: refused before anything is posted.
    count = Reading.objects.count()
    Reading.objects.filter(pk=first_of_second.pk).update(recorded_at=timezone.now() - timedelta(minutes=5))
    with pytest.raises(CommandError, match=r"and end at \d\d:\d\d UTC, after now"):
        call_command("simulate_drive", url=live_server.url, token=volt.token, step=60, stdout=StringIO())
    assert Reading.objects.count() == count
