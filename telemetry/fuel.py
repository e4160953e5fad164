"""Fuel used over a stretch of driving, from a noisy fuel level. Pure.

The level sender sloshes: on the real logs one reading can be a gallon off, and within one trip
the level swings by 2-4 gallons (realdata/README.md). So a level is never one reading: it is the
median of the readings in a window (`WINDOW_SECONDS` either side of the moment, or the last two
windows of the trip at its end), and each median carries a standard error from the spread of
its window. A median stands for the middle of its window's readings; the fall between two of
them is stretched to the moment they stand for, at the same rate (the end window is one-sided). Consecutive readings are not independent (the sender filters), so the error counts
one independent reading per minute of window, not one per reading.

A refuel inside the stretch splits it: fuel used is the sum of the falls before and after the
fill, each side measured against the refuel detector's settled levels (telemetry/refuel_core.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from telemetry.refuel_core import RefuelFound

WINDOW_SECONDS = 120.0
# Standard error of a median: 1.2533 (median vs mean efficiency) x 1.4826 MAD (MAD to sigma).
_MEDIAN_SE_FACTOR = 1.2533 * 1.4826
_SECONDS_PER_INDEPENDENT_READING = 60.0
_TICK = timedelta(milliseconds=1)


@dataclass(frozen=True, slots=True)
class FuelUsed:
    gallons: float
    noise_gallons: float  # one standard error


@dataclass(frozen=True, slots=True)
class _Level:
    pct: float
    se: float
    at: float  # epoch seconds the median stands for: the median of its readings' times


def _level(points: Sequence[tuple[datetime, float]], start: datetime, end: datetime) -> _Level | None:
    inside = [(at, v) for at, v in points if start <= at <= end]
    if not inside:
        return None
    values = [v for _, v in inside]
    mid = median(values)
    mad = median(abs(v - mid) for v in values)
    span = max((end - start).total_seconds(), _SECONDS_PER_INDEPENDENT_READING)
    independent = max(span / _SECONDS_PER_INDEPENDENT_READING, 1.0)
    return _Level(mid, _MEDIAN_SE_FACTOR * mad / math.sqrt(independent), median(at.timestamp() for at, _ in inside))


def _stretched(fall: float, measured: tuple[float, float], true: tuple[float, float]) -> float:
    """A fall measured between two window centres, stretched to the stretch it stands for (steady burn).

    The end window can only look back, so its centre is 2 minutes early; so is the start window's at
    a trip's first reading. Capped: a window centre far from its moment is not worth extrapolating.
    """
    span = measured[1] - measured[0]
    if span <= 0:
        return fall
    return fall * min(max((true[1] - true[0]) / span, 0.5), 2.0)


def fuel_used_from_levels(levels: Sequence[tuple[datetime, float]], *, since: datetime, fills: Sequence[RefuelFound],
                          tank_gallons: float) -> FuelUsed | None:
    """Gallons used from `since` to the last level reading, across any `fills`; None without levels there."""
    if not levels or levels[-1][0] <= since:
        return None
    window = timedelta(seconds=WINDOW_SECONDS)
    end = levels[-1][0]
    inside = sorted((f for f in fills if since < f.detected_at <= end), key=lambda f: f.detected_at)
    # A window never straddles a fill: the level before it and after it are different tanks.
    start = _level(levels, since - window, min(since + window, inside[0].detected_at - _TICK) if inside else since + window)
    final = _level(levels, max(end - 2 * window, inside[-1].detected_at) if inside else end - 2 * window, end)
    if start is None or final is None:
        return None
    # Stretches between fills: (level, its time, the moment it stands for) at each end.
    used = 0.0
    level, at, moment = start.pct, start.at, since.timestamp()
    stretches = [(fill.level_before, fill.detected_at.timestamp(), fill.detected_at.timestamp(), fill.level_after)
                 for fill in inside]
    for end_level, end_at, end_moment, next_level in [*stretches, (final.pct, final.at, end.timestamp(), 0.0)]:
        used += _stretched(level - end_level, (at, end_at), (moment, end_moment))
        level, at, moment = next_level, end_at, end_moment
    noise = math.hypot(start.se, final.se)
    return FuelUsed(max(used, 0.0) / 100.0 * tank_gallons, noise / 100.0 * tank_gallons)
