"""Gas-mode detection: when the engine took over from the battery. Pure.

The Volt drives on the battery until its usable window is spent, then runs the
engine to hold charge. Two signatures of that, both needing the engine to run
without a break for a while:
- at the SOC floor (displayed SOC at or below `SOC_FLOOR_MAX`), or
- with SOC held flat over a longer window (Hold mode, at any SOC).
A cold-weather pulse (engine heating cabin or pack at high SOC) is short, or the
SOC keeps falling through it because the car still drives on the battery.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

ENGINE_ON_RPM = 500.0
# Pack age moves the floor between about 13 % and 25 % displayed SOC (TORQUE.md).
SOC_FLOOR_MAX = 25.0
FLOOR_SUSTAIN_SECONDS = 120.0
HOLD_SUSTAIN_SECONDS = 300.0
HOLD_FLAT_POINTS = 1.0


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
    if rpm < ENGINE_ON_RPM:
        if state.engine_on_since is None:
            return state
        # Charge-sustaining at the floor, the engine stops at low load and starts again: those
        # pauses do not end the run. Above the floor, a stop ends it (a cold-weather pulse).
        if soc is not None and soc <= SOC_FLOOR_MAX:
            return state
        return replace(state, engine_on_since=None, engine_on_soc=None)
    if state.engine_on_since is None:
        return replace(state, engine_on_since=at, engine_on_soc=soc)
    if state.engine_on_soc is None and soc is not None:
        state = replace(state, engine_on_soc=soc)

    running = (at - state.engine_on_since).total_seconds()
    start_soc = state.engine_on_soc
    at_floor = soc is not None and soc <= SOC_FLOOR_MAX and running >= FLOOR_SUSTAIN_SECONDS
    held_flat = (
        soc is not None and start_soc is not None and running >= HOLD_SUSTAIN_SECONDS
        and abs(soc - start_soc) <= HOLD_FLAT_POINTS
    )
    if at_floor or held_flat:
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
