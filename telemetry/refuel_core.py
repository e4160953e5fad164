"""Refuel detection and MPG per tank. Pure.

The fuel level only rises at a pump, so a rise of `MIN_RISE_POINTS` between
consecutive readings is a refuel. The sender sloshes by a few points, so each
side of the comparison is the median of `SIDE` readings, never one reading.
The window of recent levels is carried from one trip to the next (the car is
refuelled while parked, between Torque sessions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import median

MIN_RISE_POINTS = 10.0
SIDE = 3  # readings on each side of the rise
WINDOW = 2 * SIDE

# [epoch milliseconds, level %, odometer miles or None]: stored as JSON on the trip row, oldest first.
FuelWindow = list[list[float | None]]


@dataclass(frozen=True, slots=True)
class RefuelFound:
    detected_at: datetime  # the first reading at the new level
    level_before: float
    level_after: float
    odometer_miles: float | None = None

    @property
    def rise(self) -> float:
        return self.level_after - self.level_before

    def gallons(self, tank_gallons: float) -> float:
        return round(tank_gallons * self.rise / 100.0, 3)


def fuel_level(values: dict[str, float]) -> float | None:
    """The Volt's own fuel PID when present, else the generic one (as trips use them)."""
    return values.get("volt_fuel_level_pct", values.get("fuel_level_pct"))


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def refuel_step(window: Sequence[Sequence[float | None]], at: datetime, level: float,
                odometer_miles: float | None = None) -> tuple[FuelWindow, RefuelFound | None]:
    """Add one in-order reading to the window; a refuel is reported once, then the window restarts."""
    points: FuelWindow = [list(p) for p in window][-(WINDOW - 1):]
    points.append([float(_ms(at)), float(level), odometer_miles])
    if len(points) < WINDOW:
        return points, None
    levels = [float(p[1]) for p in points]  # type: ignore[arg-type]
    before, after = median(levels[:SIDE]), median(levels[SIDE:])
    if after - before < MIN_RISE_POINTS:
        return points, None
    # The rise is the largest step inside the window; the readings from there on are the new level.
    steps = [levels[i] - levels[i - 1] for i in range(1, WINDOW)]
    jump = 1 + steps.index(max(steps))
    found = RefuelFound(
        detected_at=datetime.fromtimestamp(float(points[jump][0]) / 1000.0, tz=UTC),  # type: ignore[arg-type]
        level_before=round(before, 2),
        level_after=round(after, 2),
        odometer_miles=points[jump][2] if len(points[jump]) > 2 else None,
    )
    return points[jump:], found


@dataclass(frozen=True, slots=True)
class RefuelPoint:
    detected_at: datetime
    odometer_miles: float | None
    level_before: float
    level_after: float


@dataclass(frozen=True, slots=True)
class TankMpg:
    """One tank: from the end of a refuel to the start of the next one."""

    from_at: datetime
    to_at: datetime
    miles: float | None
    gallons_used: float
    mpg: float | None  # all miles, electric included: the figure Volt owners quote per tank


def tank_mpg(refuels: Sequence[RefuelPoint], tank_gallons: float) -> list[TankMpg]:
    """Miles and gallons between consecutive refuels (works for partial fills: levels, not fill volumes)."""
    tanks: list[TankMpg] = []
    ordered = sorted(refuels, key=lambda r: r.detected_at)
    for prev, nxt in zip(ordered, ordered[1:], strict=False):
        gallons = round(max(prev.level_after - nxt.level_before, 0.0) / 100.0 * tank_gallons, 3)
        miles = (
            round(nxt.odometer_miles - prev.odometer_miles, 1)
            if prev.odometer_miles is not None and nxt.odometer_miles is not None
            and nxt.odometer_miles >= prev.odometer_miles
            else None
        )
        mpg = round(miles / gallons, 1) if miles is not None and gallons > 0 else None
        tanks.append(TankMpg(prev.detected_at, nxt.detected_at, miles, gallons, mpg))
    return tanks
