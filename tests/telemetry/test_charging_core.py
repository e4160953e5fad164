"""Charging detection and session arithmetic, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from telemetry.charging_core import (
    MAX_CURVE_POINTS, ChargeSignal, charge_level, charge_signal, curve_append, session_figures, session_open,
    session_step,
)

T0 = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)


@pytest.mark.parametrize(("values", "kind", "power"), [
    ({"charger_status": 1, "charger_power_kw": 3.3, "speed_mph": 0}, "charging", 3.3),
    ({"charger_status": 1, "charger_power_kw": 0.0, "hv_power_kw": -3.0, "speed_mph": 0}, "charging", 3.0),
    ({"hv_power_kw": -3.0, "speed_mph": 0, "engine_rpm": 0}, "charging", 3.0),
    # Standing in Hold mode, the engine charges the pack: not a charging session.
    ({"hv_power_kw": -3.0, "speed_mph": 0, "engine_rpm": 1400}, "idle", None),
    ({"hv_power_kw": -3.0, "speed_mph": 0, "charger_status": 0}, "idle", None),
    ({"hv_power_kw": -20.0, "speed_mph": 30}, "moving", None),  # regenerative braking
    ({"charger_status": 1, "charger_power_kw": 0.0, "speed_mph": 0}, "idle", None),
    ({"soc_pct": 50.0}, "idle", None),
])
def test_charge_signal(values, kind, power) -> None:
    signal = charge_signal(values)
    assert signal.kind == kind
    assert signal.power_kw == (pytest.approx(power) if power is not None else None)


@pytest.mark.parametrize(("kw", "level"), [(1.4, "L1"), (1.9, "L1"), (3.3, "L2"), (7.2, "L2"), (20.0, "L2"),
                                           (50.0, "DCFC"), (0.0, ""), (None, "")])
def test_charge_level_boundaries(kw, level) -> None:
    assert charge_level(kw) == level


def test_power_curve_stays_bounded_and_spans_the_session() -> None:
    points: list[list[float]] = []
    stride = 15
    for second in range(0, 12 * 3600, 5):  # a 12-hour charge logged every 5 s
        points, stride = curve_append(points, stride, second, 1.4)
    assert 100 <= len(points) <= MAX_CURVE_POINTS
    assert points[0][0] == 0 and points[-1][0] >= 11 * 3600
    offsets = [p[0] for p in points]
    assert offsets == sorted(offsets)


def _run(powers: list[float], step_s: float = 60.0, soc0: float = 20.0, soc_step: float = 0.5):
    signal = ChargeSignal("charging", powers[0], "charger_power")
    state = session_open(T0, signal, soc0)
    for i, kw in enumerate(powers[1:], start=1):
        sig = ChargeSignal("charging", kw, "charger_power") if kw > 0 else ChargeSignal("idle")
        state = session_step(state, T0 + timedelta(seconds=i * step_s), sig, soc0 + i * soc_step)
    return state


def test_trapezoid_integration_of_constant_power() -> None:
    state = _run([3.3] * 61)  # one hour
    figures = session_figures(state, usable_battery_kwh=14.0)
    assert figures.kwh_added == pytest.approx(3.3, rel=1e-6)
    assert figures.avg_power_kw == pytest.approx(3.3, rel=1e-6)
    assert (figures.level, figures.kwh_source) == ("L2", "charger_power")
    assert state.peak_power_kw == pytest.approx(3.3)


def test_an_idle_reading_pauses_integration() -> None:
    # 30 min at 3.3 kW, 10 min paused (power 0, plugged), 30 min at 3.3 kW
    state = _run([3.3] * 31 + [0.0] * 10 + [3.3] * 31)
    figures = session_figures(state, usable_battery_kwh=14.0)
    assert figures.kwh_added == pytest.approx(3.3 * 60 / 60, rel=0.02)
    assert figures.level == "L2"  # the pause does not drag a 3.3 kW charge down to L1


def test_soc_gain_is_the_fallback_without_any_power_interval() -> None:
    state = session_open(T0, ChargeSignal("charging", 3.0, "battery_power"), 20.0)
    state = session_step(state, T0 + timedelta(seconds=60), ChargeSignal("idle"), 90.0)
    figures = session_figures(state, usable_battery_kwh=14.0)
    assert figures.kwh_source == "soc"
    assert figures.kwh_added == pytest.approx(0.7 * 14.0)


def test_older_reading_changes_nothing() -> None:
    state = _run([3.3] * 5)
    assert session_step(state, T0, ChargeSignal("charging", 9.9, "charger_power"), 99.0) is state
