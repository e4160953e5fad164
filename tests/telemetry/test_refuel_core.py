"""Refuel detection, without a database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import cycle

import pytest

from telemetry.refuel_core import refuel_step

T0 = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)


def _feed(levels: list[float]):
    window: list[list[float | None]] = []
    found = []
    for i, level in enumerate(levels):
        window, hit = refuel_step(window, T0 + timedelta(seconds=10 * i), level)
        if hit:
            found.append((i, hit))
    return found


def test_rise_is_detected_once_at_the_first_new_reading() -> None:
    found = _feed([30.0] * 10 + [95.0] * 20)
    assert len(found) == 1
    _, hit = found[0]
    assert (hit.level_before, hit.level_after) == (30.0, 95.0)
    assert hit.detected_at == T0 + timedelta(seconds=100)
    assert hit.gallons(8.9) == pytest.approx(8.9 * 0.65)


def test_rise_below_ten_points_is_not_a_refuel_but_ten_is() -> None:
    assert _feed([50.0] * 6 + [59.5] * 6) == []
    assert len(_feed([50.0] * 6 + [60.0] * 6)) == 1


@pytest.mark.parametrize("pattern", [[4, -4], [-4, -4, -4, 4, 4, 4], [-4, 4, 4, -4, -4, 4], [0, -4, 4, 4]])
def test_slosh_of_four_points_is_never_a_refuel(pattern) -> None:
    offsets = cycle(pattern)
    levels = [60.0 - i * 0.05 + next(offsets) for i in range(300)]  # slowly burning, sloshing
    assert _feed(levels) == []


def test_one_sloshing_spike_is_not_a_refuel() -> None:
    assert _feed([40.0] * 6 + [70.0] + [40.0] * 6) == []


def _feed_moving(rows: Sequence[tuple[float, float | None]]):
    """(level, speed mph) rows 5 s apart."""
    window: list[list[float | None]] = []
    found = []
    for i, (level, speed) in enumerate(rows):
        window, hit = refuel_step(window, T0 + timedelta(seconds=5 * i), level, speed_mph=speed)
        if hit:
            found.append(hit)
    return found


def test_levels_read_while_moving_are_never_compared() -> None:
    # Slosh at speed: the level holds steady at 70 for a minute while cornering, then drops back.
    drive = [(40.0, 50.0)] * 12 + [(70.0, 45.0)] * 12 + [(40.0, 50.0)] * 12
    assert _feed_moving([(40.0, 0.0)] * 6 + drive + [(40.0, 0.0)] * 6) == []


def test_a_fill_between_two_stops_is_found_with_the_settled_levels_either_side() -> None:
    before = [(47.0 + (i % 3) - 1, 0.0) for i in range(12)]  # parked at the pump, sloshing a point
    after = [(96.0 + (i % 2), 0.0) for i in range(12)]
    found = _feed_moving(before + [(60.0, 2.0), (80.0, 1.0)] + after)
    assert len(found) == 1
    assert found[0].level_before == pytest.approx(47.0, abs=1) and found[0].level_after == pytest.approx(96.5, abs=1)


def test_a_level_still_settling_upward_after_a_fill_is_not_a_second_refuel() -> None:
    # The real logs: after the Dec-31 fill the next session's level creeps up by about 8 points.
    rows = [(47.0, 0.0)] * 6 + [(88.0, 0.0)] * 6 + [(88.0 + i * 0.1, 30.0) for i in range(80)] + [(96.0, 0.0)] * 6
    found = _feed_moving(rows)
    assert [(f.level_before, f.level_after) for f in found] == [(47.0, 88.0)]
