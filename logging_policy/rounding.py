"""Rounding of the figures an event shows: half up, in float arithmetic.

`round(value, digits)` is correctly rounded through a decimal conversion, and costs about
twice as much; on the event's hot path (timings, the vehicle's context) that is measurable
and the exactness is not needed: a figure shown to the microsecond or to a tenth of a mile
may differ from round()'s in the last digit when it lies within a float's error of a tie.
"""

from __future__ import annotations

from math import isfinite


def half_up(value: float | None, scale: float) -> float | None:
    """`value` rounded to 1 / `scale` (scale = 10 ** digits), ties upwards; None, inf and NaN pass through."""
    if value is None or not isfinite(value):
        return value
    return (value * scale + 0.5) // 1.0 / scale
