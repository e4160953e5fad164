"""simulate_drive posts over real HTTP to a live server."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

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
