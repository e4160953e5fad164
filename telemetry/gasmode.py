"""Gas-mode detection: when the engine took over from the battery. Pure.

The Volt drives on the battery until its usable window is spent, then runs the
engine to hold charge (charge-sustaining): the SOC stops falling. Two signatures
of that, both needing the engine to run for a while with the SOC no longer falling:
- at the SOC floor (SOC at or below `SOC_FLOOR_MAX`, custom or raw scale: the raw
  floor is about 13-16 %), SOC flat (within `FLAT_POINTS`) or rising over
  `FLOOR_SUSTAIN_SECONDS`; the engine may pause at low load meanwhile, or
- SOC held flat over `HOLD_SUSTAIN_SECONDS` of uninterrupted running (Hold mode, any SOC).
An engine that pulses while the SOC keeps falling (cold weather, maintenance runs) is
not charge-sustaining: a fall of more than `FLAT_POINTS` restarts the watch from there.

With no SOC at all (a phone without a usable SOC PID), `gas_mode_without_soc` judges
the whole trip at finalization: the engine running a large share of the moving time
while the fuel level does not rise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import pairwise
from statistics import median

ENGINE_ON_RPM = 500.0
# Pack age moves the floor between about 13 % and 25 % displayed SOC (TORQUE.md).
SOC_FLOOR_MAX = 25.0
FLOOR_SUSTAIN_SECONDS = 120.0
HOLD_SUSTAIN_SECONDS = 300.0
FLAT_POINTS = 1.0
# The no-SOC rule: moving means faster than a walk; the share and span keep pulses out.
MOVING_MPH = 3.0
NO_SOC_ENGINE_SHARE = 0.3
NO_SOC_MIN_MOVING_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class GasState:
    engine_on_since: datetime | None = None
    engine_on_soc: float | None = None
    entered_at: datetime | None = None
    soc_at_entry: float | None = None


def gas_mode_step(state: GasState, at: datetime, rpm: float | None, soc: float | None) -> GasState:
    """Advance the detector by one in-order reading; entry is recorded once per trip."""
    if state.entered_at is not None or rpm is None:
        return state
    at_floor = soc is not None and soc <= SOC_FLOOR_MAX
    start_soc = state.engine_on_soc
    falling = soc is not None and start_soc is not None and soc < start_soc - FLAT_POINTS
    if rpm < ENGINE_ON_RPM:
        if state.engine_on_since is None:
            return state
        # Charge-sustaining at the floor, the engine stops at low load and starts again: those
        # pauses do not end the run, unless the SOC falls meanwhile (the battery drives the car).
        # Above the floor, a stop ends it (a cold-weather pulse).
        if at_floor and not falling:
            return state
        return replace(state, engine_on_since=None, engine_on_soc=None)
    if (since := state.engine_on_since) is None or falling:
        # A fall while running: the engine is not holding the charge; watch again from here.
        return replace(state, engine_on_since=at, engine_on_soc=soc)
    if start_soc is None and soc is not None:
        state = replace(state, engine_on_soc=soc)
        start_soc = soc

    running = (at - since).total_seconds()
    held = soc is not None and start_soc is not None and soc >= start_soc - FLAT_POINTS
    sustained_at_floor = at_floor and held and running >= FLOOR_SUSTAIN_SECONDS
    held_flat = held and running >= HOLD_SUSTAIN_SECONDS and abs(soc - start_soc) <= FLAT_POINTS  # type: ignore[operator]  # held: both set
    if sustained_at_floor or held_flat:
        # The engine took over when it started, not when we became sure of it.
        return replace(state, entered_at=state.engine_on_since, soc_at_entry=start_soc)
    return state


def gas_mode_replay(readings: Iterable[tuple[datetime, float | None, float | None]]) -> GasState:
    """The detector over a whole trip's (at, rpm, soc) readings in time order: the answer at finalize.

    Uploads step the detector only with readings newer than the newest seen, so a
    trip whose readings arrived out of order can miss its entry until this replay.
    """
    state = GasState()
    for at, rpm, soc in readings:
        state = gas_mode_step(state, at, rpm, soc)
        if state.entered_at is not None:
            break
    return state


@dataclass(frozen=True, slots=True)
class EngineSample:
    at: datetime
    rpm: float | None
    speed_mph: float | None
    fuel_level_pct: float | None


def gas_mode_without_soc(samples: Sequence[EngineSample]) -> datetime | None:
    """When a trip with no SOC at all ran on gas: the first engine start while moving, or None.

    Gas when the engine ran in at least `NO_SOC_ENGINE_SHARE` of at least `NO_SOC_MIN_MOVING_SECONDS`
    of moving time, and the fuel level (median of the last third against the first) did not rise.
    Without a fuel level there is no second witness, and the trip stays electric.
    """
    moving = engine = 0.0
    first_on: datetime | None = None
    for a, b in pairwise(samples):
        if a.speed_mph is None or a.speed_mph <= MOVING_MPH or a.rpm is None:
            continue
        span = (b.at - a.at).total_seconds()
        moving += span
        if a.rpm >= ENGINE_ON_RPM:
            engine += span
            first_on = first_on or a.at
    levels = [s.fuel_level_pct for s in samples if s.fuel_level_pct is not None]
    if first_on is None or moving < NO_SOC_MIN_MOVING_SECONDS or engine < NO_SOC_ENGINE_SHARE * moving:
        return None
    third = len(levels) // 3
    if third == 0 or median(levels[-third:]) > median(levels[:third]):
        return None
    return first_on
