"""Rounding of the figures an event shows: half up, in float arithmetic.

`round(value, digits)` is correctly rounded through a decimal conversion, and costs about
twice as much; on the event's hot path (timings, the vehicle's context) that is measurable
and the exactness is not needed: a figure shown to the microsecond or to a tenth of a mile
may differ from round()'s in the last digit when it lies within a float's error of a tie.
"""

from __future__ import annotations


def half_up(value: float | None, scale: float) -> float | None:
    """`value` rounded to 1 / `scale` (scale = 10 ** digits, at most 1000), ties upwards.

    None, inf and NaN pass through, and so does any value of 1e15 or more in size: a float that
    large has no fractional digits left to round, and scaling it could overflow to inf (NaN after //).
    """
    if value is None or not -1e15 < value < 1e15:  # also false for NaN
        return value
    return (value * scale + 0.5) // 1.0 / scale
