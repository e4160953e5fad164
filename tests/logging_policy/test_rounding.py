"""half_up: the rounding of timings and of the vehicle's context figures on every event."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from logging_policy.rounding import half_up


def test_figures_round_half_up_and_pass_what_is_not_a_number() -> None:
    assert [half_up(v, 10.0) for v in (1830.4123, 2.25, 0.04, -1.26, -1.25)] == [1830.4, 2.3, 0.0, -1.3, -1.2]
    assert (half_up(0.28134, 1000.0), half_up(16.2134, 100.0), half_up(0.0004999, 1000.0)) == (0.281, 16.21, 0.0)
    assert half_up(None, 10.0) is None and half_up(math.inf, 10.0) == math.inf and half_up(-math.inf, 10.0) == -math.inf
    assert math.isnan(half_up(math.nan, 10.0))  # type: ignore[arg-type]
    assert half_up(1.7e308, 1000.0) == 1.7e308 and half_up(-2e15, 10.0) == -2e15  # no overflow to NaN


@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), st.integers(min_value=0, max_value=3))
def test_half_up_is_round_but_for_ties_within_a_floats_error(value: float, digits: int) -> None:
    scale = 10.0 ** digits
    ours, exact = half_up(value, scale), round(value, digits)
    assert ours is not None
    # Apart from near-ties (where round() goes to even, or the float lies a hair either side),
    # the two agree; at worst they differ by one unit in the last digit shown.
    assert abs(ours - exact) <= 1 / scale * (1 + 1e-9)
    scaled = abs(value) * scale
    if abs(scaled - math.floor(scaled) - 0.5) > 1e-3:  # well away from a tie: the same float
        assert ours == exact


@given(st.floats(min_value=0.0, max_value=1e9, allow_nan=False))
def test_durations_print_with_at_most_three_decimals(value: float) -> None:
    rounded = half_up(value, 1000.0)
    assert rounded is not None and abs(rounded - value) <= 0.0005 + value * 1e-15
    assert rounded == round(rounded, 3)
