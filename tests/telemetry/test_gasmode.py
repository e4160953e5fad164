"""Gas-mode detection rules, without a database (the HTTP path is in test_peer_cases.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from telemetry.gasmode import EngineSample, GasState, gas_mode_replay, gas_mode_step, gas_mode_without_soc

T0 = datetime(2026, 1, 5, 13, 0, tzinfo=UTC)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_hold_mode_engine_on_at_high_soc_held_flat_for_five_minutes() -> None:
    rows = [(_at(30 * i), 1500.0, 70.0 + (i % 2) * 0.5) for i in range(12)]
    assert gas_mode_replay(rows).entered_at == T0
    assert gas_mode_replay(rows[:10]).entered_at is None  # 4.5 minutes: not yet


def test_a_cold_weather_pulse_at_high_soc_is_not_gas() -> None:
    rows = [(_at(30 * i), 1500.0 if i < 4 else 0.0, 80.0 - i * 0.2) for i in range(30)]
    assert gas_mode_replay(rows).entered_at is None


def test_a_fall_while_running_restarts_the_watch() -> None:
    state = gas_mode_step(GasState(), _at(0), 1200.0, 20.0)
    state = gas_mode_step(state, _at(60), 1200.0, 18.5)  # fell 1.5 points: the battery still drives
    assert (state.engine_on_since, state.engine_on_soc) == (_at(60), 18.5)
    state = gas_mode_step(state, _at(180), 1200.0, 18.4)
    assert (state.entered_at, state.soc_at_entry) == (_at(60), 18.5)


def _engine(rpm_on: bool, speed: float, fuel: float | None, i: int) -> EngineSample:
    return EngineSample(_at(10 * i), 1400.0 if rpm_on else 0.0, speed, fuel)


def test_no_soc_sustained_engine_while_moving_with_fuel_falling_is_gas() -> None:
    samples = [_engine(i % 2 == 0, 55.0, 50.0 - i * 0.02, i) for i in range(60)]  # 10 min, engine half the time
    assert gas_mode_without_soc(samples) == T0


def test_no_soc_without_fuel_falling_or_enough_engine_is_not_gas() -> None:
    rising = [_engine(True, 55.0, 50.0 + i * 0.02, i) for i in range(60)]
    pulses = [_engine(i % 5 == 0, 55.0, 50.0 - i * 0.02, i) for i in range(60)]  # 20 % of the time
    parked = [_engine(True, 0.0, 50.0 - i * 0.02, i) for i in range(60)]  # warming up, standing
    no_fuel = [_engine(True, 55.0, None, i) for i in range(60)]
    short = [_engine(True, 55.0, 50.0 - i * 0.02, i) for i in range(20)]  # 3 minutes
    assert [gas_mode_without_soc(s) for s in (rising, pulses, parked, no_fuel, short)] == [None] * 5
