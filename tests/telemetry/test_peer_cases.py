"""The three findings of the peer's test suite (issue 21, section 1), with the peer's numbers,
through the real path: HTTP uploads, finalization, the stored rows."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from telemetry.models import ChargingSession, Trip
from telemetry.trips import trip_finalize

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 2, 10, 8, 0, tzinfo=UTC)


def _send(upload: Callable[..., Any], token: str, session: str, rows: Sequence[tuple[float, Mapping[str, float]]]) -> Trip:
    """Upload (minute, values) rows of one session, then finalize its trip."""
    for minute, values in rows:
        params = {"session": session, "id": "peer", "v": "9",
                  "time": str(int((T0 + timedelta(minutes=minute)).timestamp() * 1000))}
        params |= {key: str(value) for key, value in values.items()}
        assert upload(token, params).content == b"OK!"
    trip = Trip.objects.get(session=session)
    trip_finalize(trip_id=trip.pk)
    trip.refresh_from_db()
    return trip


def test_regen_is_netted_and_reported_on_its_own(volt, upload, settings) -> None:
    settings.TRIP_SPLIT_GAP_SECONDS = 3600  # the peer's readings are 30 minutes apart, in one trip
    # 10, -5, 10 kW at 0, 30, 60 minutes, over 10 miles on the battery (SOC well above the floor).
    rows = [(m, {"k22000b": kw, "kc": 0, "k22005b": 80 - m / 10, "ka6": 1.609344 * (1000 + m / 6)})
            for m, kw in ((0, 10.0), (30, -5.0), (60, 10.0))]
    trip = _send(upload, volt.token, "regen", rows)
    assert trip.electric_kwh_used == pytest.approx(2.5, abs=1e-3)  # net: 3.333 out, 0.833 back
    assert trip.regen_kwh == pytest.approx(5 / 6, abs=1e-3)
    assert trip.kwh_per_mile == pytest.approx(0.25, abs=1e-3)
    assert trip.gas_mode_entered_at is None and trip.gas_miles == 0


@pytest.mark.parametrize(("charger_kw", "charges"), [(0.3, False), (0.49, False), (0.5, True), (1.4, True)])
def test_a_trickle_is_not_a_charge(volt, upload, charger_kw: float, charges: bool) -> None:
    rows = [(m, {"k220057": 1, "k22006e": charger_kw, "kd": 0, "kc": 0, "k22005b": 50 + m / 30})
            for m in range(0, 30, 5)]
    _send(upload, volt.token, f"plugged-{charger_kw}", rows)
    assert ChargingSession.objects.filter(vehicle=volt.vehicle).exists() is charges


def test_battery_power_into_a_standing_car_is_a_charge_only_when_plugged(volt, upload) -> None:
    # The last regen as the car stops, with no charger PID: the real logs' -0.61 and -1.13 kW.
    stop = [(m, {"k22000b": kw, "kd": 0, "kc": 0, "k5b": 15}) for m, kw in ((0, -0.61), (1, -1.13), (2, 0.2))]
    _send(upload, volt.token, "stop", stop)
    assert not ChargingSession.objects.exists()
    plugged = [(10 + m, {"k220057": 1, "k22000b": -3.3, "kd": 0, "kc": 0, "k22005b": 20 + m}) for m in range(5)]
    _send(upload, volt.token, "plug", plugged)
    assert ChargingSession.objects.get().kwh_source == "battery_power"


def test_an_engine_pulsing_while_soc_falls_is_not_gas_mode(volt, upload) -> None:
    # The peer's case: RPM 0/1000/0/1000/0 with SOC 20/19/18/17/16, a minute apart.
    rows = [(m, {"kc": rpm, "k22005b": soc, "kd": 64.37, "ka6": 1.609344 * (1000 + m)})
            for m, (rpm, soc) in enumerate(zip((0, 1000, 0, 1000, 0), (20, 19, 18, 17, 16), strict=True))]
    trip = _send(upload, volt.token, "pulse", rows)
    assert trip.gas_mode_entered_at is None
    assert (trip.electric_miles, trip.gas_miles) == (pytest.approx(4.0), 0)


@pytest.mark.parametrize("socs", [(16, 16.5, 15.5, 16, 16.4, 16), (14, 14.5, 15, 15.5, 16, 16.5)],
                         ids=["flat", "rising"])
def test_engine_at_the_floor_with_soc_flat_or_rising_is_gas_mode(volt, upload, socs: tuple[float, ...]) -> None:
    rows = [(m, {"kc": 1400 if m % 2 == 0 else 0, "k5b": soc, "kd": 80.0, "ka6": 1.609344 * (1000 + m)})
            for m, soc in enumerate(socs)]
    trip = _send(upload, volt.token, "floor", rows)
    assert trip.gas_mode_entered_at == T0  # the engine's first start, once the flat SOC confirmed it
    assert trip.soc_source == "k5b"
    assert (trip.electric_miles, trip.gas_miles) == (0, pytest.approx(5.0))
