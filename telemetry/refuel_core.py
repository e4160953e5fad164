"""Refuel detection. Pure.

The fuel level only rises at a pump, but the sender sloshes: while the car moves one reading can
be a gallon off and the level swings by 2-4 gallons within a trip (realdata/README.md). So levels
are compared only while the car stands (OBD speed, else GPS speed, at most `STANDING_MPH`; no
speed at all counts as standing), and only once settled: the standing readings of the last
`SETTLE_SECONDS` (at least `SETTLE_MIN_POINTS`, the last ones when readings are sparse) agree
within `SETTLE_SPREAD_POINTS`. A settled level `MIN_RISE_POINTS` above the previous settled one
is a refuel; every settled level becomes the reference for the next.

The window (the reference and the recent standing readings) is carried from one trip to the next:
the car is refuelled while parked, between Torque sessions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import median

MIN_RISE_POINTS = 10.0
STANDING_MPH = 3.0
SETTLE_SECONDS = 15.0
SETTLE_MIN_POINTS = 3
SETTLE_SPREAD_POINTS = 3.0

# [epoch ms, level %, odometer miles or None] per recent standing reading, oldest first, stored as
# JSON on the trip row; the first entry may be the reference, marked by a fourth element.
FuelWindow = list[list[float | None]]
_REFERENCE = 1.0


@dataclass(frozen=True, slots=True)
class RefuelFound:
    detected_at: datetime  # the first reading of the settled new level
    level_before: float
    level_after: float
    odometer_miles: float | None = None

    @property
    def rise(self) -> float:
        return self.level_after - self.level_before

    def gallons(self, tank_gallons: float) -> float:
        return round(tank_gallons * self.rise / 100.0, 3)


def fuel_level(values: Mapping[str, float]) -> float | None:
    """The Volt's own fuel PID when present, else the generic one (as trips use them)."""
    return values.get("volt_fuel_level_pct", values.get("fuel_level_pct"))


def standing_speed(values: Mapping[str, float]) -> float | None:
    """The speed that says whether the car stands: OBD's, else GPS's."""
    return values.get("speed_mph", values.get("gps_speed_mph"))


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def refuel_step(window: Sequence[Sequence[float | None]], at: datetime, level: float,
                odometer_miles: float | None = None, *, speed_mph: float | None = None
                ) -> tuple[FuelWindow, RefuelFound | None]:
    """Add one in-order reading to the window; a refuel is reported once, then it is the reference."""
    points: FuelWindow = [list(p) for p in window]
    if speed_mph is not None and speed_mph > STANDING_MPH:
        return points, None
    reference = points[0] if points and len(points[0]) > 3 else None
    now = float(_ms(at))
    recent = [p for p in points if len(p) <= 3] + [[now, float(level), odometer_miles]]
    fresh = sum(1 for p in recent if p[0] is not None and now - p[0] <= SETTLE_SECONDS * 1000)
    recent = recent[-max(fresh, SETTLE_MIN_POINTS):]
    levels = [float(p[1]) for p in recent]  # type: ignore[arg-type]
    if len(recent) < SETTLE_MIN_POINTS or max(levels) - min(levels) > SETTLE_SPREAD_POINTS:
        return ([reference] if reference else []) + recent, None
    settled = round(median(levels), 2)
    found = None
    if reference is not None and settled - float(reference[1]) >= MIN_RISE_POINTS:  # type: ignore[arg-type]
        first = recent[0]
        found = RefuelFound(
            detected_at=datetime.fromtimestamp(float(first[0]) / 1000.0, tz=UTC),  # type: ignore[arg-type]
            level_before=float(reference[1]),  # type: ignore[arg-type]
            level_after=settled,
            odometer_miles=first[2],
        )
    return [[now, settled, odometer_miles, _REFERENCE], *recent], found
