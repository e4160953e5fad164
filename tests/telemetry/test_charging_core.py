"""Charging detection and session arithmetic, without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from telemetry.charging_core import (
    MAX_CURVE_POINTS, ChargeSignal, ReplayedSession, StoredSession, charge_level, charge_signal, curve_append,
    session_figures, session_open, session_step, sessions_reconcile, sessions_replay,
)

T0 = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)


@pytest.mark.parametrize(("values", "kind", "power"), [
    ({"charger_status": 1, "charger_power_kw": 3.3, "speed_mph": 0}, "charging", 3.3),
    ({"charger_status": 1, "charger_power_kw": 0.0, "hv_power_kw": -3.0, "speed_mph": 0}, "charging", 3.0),
    ({"charger_status": 1, "hv_power_kw": -3.0, "speed_mph": 0, "engine_rpm": 0}, "charging", 3.0),
    # No charger status: the last regen as the car stops looks the same (issue 21's real logs).
    ({"hv_power_kw": -3.0, "speed_mph": 0, "engine_rpm": 0}, "idle", None),
    ({"charger_status": 1, "charger_power_kw": 0.3, "speed_mph": 0}, "idle", None),  # a trickle
    ({"charger_status": 1, "charger_power_kw": 0.5, "speed_mph": 0}, "charging", 0.5),
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


def charging(minute: float, kw: float = 3.3, soc: float | None = None) -> tuple[datetime, dict[str, float]]:
    values = {"charger_status": 1.0, "charger_power_kw": kw, "speed_mph": 0.0, "latitude": 42.33123,
              "longitude": -83.05123}
    return T0 + timedelta(minutes=minute), values | ({"soc_pct": soc} if soc is not None else {})


def idle(minute: float) -> tuple[datetime, dict[str, float]]:
    return T0 + timedelta(minutes=minute), {"charger_status": 1.0, "charger_power_kw": 0.0, "speed_mph": 0.0}


def moving(minute: float) -> tuple[datetime, dict[str, float]]:
    return T0 + timedelta(minutes=minute), {"speed_mph": 30.0}


def test_replay_in_time_order_equals_the_uploads_applied_one_by_one() -> None:
    readings = [charging(m, soc=20 + m) for m in range(31)]
    at, values = readings[0]
    state = session_open(at, charge_signal(values), values["soc_pct"])
    for at, values in readings[1:]:
        state = session_step(state, at, charge_signal(values), values["soc_pct"])
    assert sessions_replay(readings, stale_seconds=120) == [ReplayedSession(state, "", (42.331, -83.051))]
    assert session_figures(state, 14.0).kwh_added == pytest.approx(3.3 / 2, rel=1e-9)


def test_replay_closes_on_driving_off_and_after_the_stale_window() -> None:
    readings = [charging(0), charging(1), moving(2), charging(10), charging(11), idle(12), charging(13), idle(14),
                charging(20)]
    found = sessions_replay(readings, stale_seconds=120)
    assert [(s.state.started_at, s.state.ended_at, s.closed_reason) for s in found] == [
        (T0, T0 + timedelta(minutes=1), "drove_off"),
        (T0 + timedelta(minutes=10), T0 + timedelta(minutes=13), "stale"),
        (T0 + timedelta(minutes=20), T0 + timedelta(minutes=20), ""),
    ]
    # 10 to 11 at 3.3 kW; paused from 12 until charging resumed at 13.
    assert found[1].state.kwh_integrated == pytest.approx(3.3 / 60, rel=1e-9)
    assert found[1].state.reading_count == 3


def test_reconcile_leaves_rows_that_match_even_without_their_trailing_idle_readings() -> None:
    [found] = sessions_replay([charging(m) for m in range(5)] + [idle(5), idle(6)], stale_seconds=120)
    [before_idle] = sessions_replay([charging(m) for m in range(5)], stale_seconds=120)
    assert sessions_reconcile([found], [StoredSession(7, found.state, is_complete=False)]) == []
    # The beat closed it (server clock) before the idle readings were applied: same charge, no rewrite.
    assert sessions_reconcile([found], [StoredSession(7, before_idle.state, is_complete=True)]) == []


def test_reconcile_rewrites_what_the_uploads_got_wrong_and_stores_what_they_missed() -> None:
    readings = [charging(m) for m in range(10)]
    [found] = sessions_replay(readings, stale_seconds=120)
    [newest_only] = sessions_replay(readings[-1:], stale_seconds=120)  # uploaded newest first
    [repair] = sessions_reconcile([found], [StoredSession(3, newest_only.state, is_complete=False)])
    assert (repair.session_id, repair.merged_ids, repair.close, repair.replayed) == (3, (), False, found)
    [missed] = sessions_reconcile([found], [])
    assert (missed.session_id, missed.replayed) == (None, found)


def test_reconcile_merges_split_rows_into_the_open_one_and_closes_what_the_readings_closed() -> None:
    readings = [charging(m) for m in range(10)] + [moving(11)]
    [found] = sessions_replay(readings, stale_seconds=120)
    [head] = sessions_replay(readings[:4], stale_seconds=120)
    [tail] = sessions_replay(readings[6:10], stale_seconds=120)
    rows = [StoredSession(1, head.state, is_complete=True), StoredSession(2, tail.state, is_complete=False)]
    [repair] = sessions_reconcile([found], rows)
    assert (repair.session_id, repair.merged_ids, repair.close) == (2, (1,), True)
    assert found.closed_reason == "drove_off"
    # A row already matching but left open is only closed.
    [close] = sessions_reconcile([found], [StoredSession(5, found.state, is_complete=False)])
    assert (close.session_id, close.merged_ids, close.close) == (5, (), True)


def test_reconcile_gives_each_row_to_one_replayed_session() -> None:
    first, second = sessions_replay([charging(0), charging(1), moving(2), charging(3), charging(4)], 120)
    # Uploads that never saw the moving reading made one session of both charges.
    spanning = replace(second.state, started_at=first.state.started_at, reading_count=4)
    repairs = sessions_reconcile([first, second], [StoredSession(9, spanning, is_complete=True)])
    assert [(r.session_id, r.replayed) for r in repairs] == [(9, first), (None, second)]
