"""Fuel used from a noisy level, without a database."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from telemetry.fuel import fuel_used_from_levels
from telemetry.refuel_core import RefuelFound

T0 = datetime(2026, 1, 5, 13, 0, tzinfo=UTC)


def _levels(minutes: int, start: float, per_minute: float, slosh: float, seed: int = 1, outliers: bool = False):
    """A reading every 4 s, falling steadily, sloshing; with `outliers` every 10th is a gallon off."""
    rng = random.Random(seed)
    return [(T0 + timedelta(seconds=4 * i), start - per_minute * i / 15 + rng.uniform(-slosh, slosh)
             + (rng.choice((-11.0, 11.0)) if outliers and i % 10 == 0 else 0.0))
            for i in range(minutes * 15)]


def test_a_steady_fall_through_slosh_and_outliers_is_measured_with_its_noise() -> None:
    # 30 minutes at 0.2 % a minute; the end window's centre is 2 minutes before the end: 28 min x 0.2 %
    # of 8.9 gal = 0.498 gal. Readings slosh 2 points and every tenth is a gallon (11 points) off.
    used = fuel_used_from_levels(_levels(30, 60.0, 0.2, 2.0, outliers=True), since=T0, fills=(), tank_gallons=8.9)
    assert used is not None
    assert used.gallons == pytest.approx(0.498, abs=0.1)
    assert 0.01 < used.noise_gallons < 0.15


def test_slosh_too_heavy_for_the_fall_says_so_in_its_noise() -> None:
    used = fuel_used_from_levels(_levels(30, 60.0, 0.2, 11.0), since=T0, fills=(), tank_gallons=8.9)
    assert used is not None and used.noise_gallons > 0.4  # as large as the fuel itself: MPG stays unknown


def test_single_readings_do_not_move_the_figure() -> None:
    levels = _levels(30, 60.0, 0.0, 0.5)
    levels[0] = (levels[0][0], 90.0)
    levels[-1] = (levels[-1][0], 20.0)
    used = fuel_used_from_levels(levels, since=T0, fills=(), tank_gallons=8.9)
    assert used is not None and used.gallons < 0.1


def test_a_fill_inside_counts_the_fuel_used_on_each_side() -> None:
    first = _levels(20, 20.0, 0.5, 1.0)  # 20 -> 10 %
    later = [(at + timedelta(minutes=25), level) for at, level in _levels(20, 96.0, 0.5, 1.0, seed=2)]  # 96 -> 86
    fill = RefuelFound(T0 + timedelta(minutes=25), 10.0, 96.0)
    used = fuel_used_from_levels(first + later, since=T0, fills=[fill], tank_gallons=10.0)
    assert used is not None
    # 10 points before the fill, 10 after, less a minute at the start and 2 at the end (window centres)
    assert used.gallons == pytest.approx(1.85, abs=0.15)


def test_no_levels_after_entry_means_unknown() -> None:
    assert fuel_used_from_levels([(T0, 50.0)], since=T0 + timedelta(minutes=1), fills=(), tank_gallons=8.9) is None
