"""Horvitz-Thompson counts from a sampled log: the estimate and how precise it is. Pure.

Each kept event was kept with probability p (`sampling.rate`) and stands for 1/p events
(`sampling.sample_rate`). Over the kept events of any group:

    estimate = sum(1/p)                      unbiased for the true count
    variance = sum((1 - p) / p**2)           unbiased for the estimate's variance
    rse      = sqrt(variance) / estimate     relative standard error

The same three sums in SQL (docs/queries.md) give the same numbers; `HTSums` holds them so that
streams and buckets can be added up without keeping the probabilities.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class HTSums:
    """The running sums of a Horvitz-Thompson estimate over kept events."""

    kept: int = 0
    estimate: float = 0.0  # sum of 1/p
    variance: float = 0.0  # sum of (1-p)/p^2

    def add(self, p: float) -> HTSums:
        """These sums with one more kept event of keep probability `p` (0 < p <= 1)."""
        if not 0.0 < p <= 1.0:
            raise ValueError(f"a keep probability is in (0, 1], not {p!r}")
        weight = 1.0 / p
        return HTSums(self.kept + 1, self.estimate + weight, self.variance + (weight - 1.0) * weight)

    def __add__(self, other: HTSums) -> HTSums:
        return HTSums(self.kept + other.kept, self.estimate + other.estimate, self.variance + other.variance)

    @property
    def standard_error(self) -> float:
        return math.sqrt(max(self.variance, 0.0))

    @property
    def rse(self) -> float:
        """Relative standard error of the estimate (0 for an exact count, or with nothing kept)."""
        return self.standard_error / self.estimate if self.estimate > 0 else 0.0


def ht_sums(probabilities: Iterable[float]) -> HTSums:
    """The sums over kept events with these keep probabilities."""
    kept, estimate, variance = 0, 0.0, 0.0
    for p in probabilities:
        if not 0.0 < p <= 1.0:
            raise ValueError(f"a keep probability is in (0, 1], not {p!r}")
        weight = 1.0 / p
        kept += 1
        estimate += weight
        variance += (weight - 1.0) * weight
    return HTSums(kept, estimate, variance)
