"""The Horvitz-Thompson estimator: exact sums, and no bias over 10^5 events of changing floods."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from logging_policy.adaptive import AdaptiveRates
from logging_policy.estimator import HTSums, ht_sums
from logging_policy.sampling import budget_per_minute, decide, default_policy


def test_sums_of_known_probabilities() -> None:
    sums = ht_sums([1.0, 0.5, 0.25, 0.25])
    assert (sums.kept, sums.estimate, sums.variance) == (4, 11.0, 0.0 + 2.0 + 12.0 + 12.0)
    assert sums.rse == pytest.approx(math.sqrt(26.0) / 11.0)
    assert ht_sums([1.0] * 7).rse == 0.0 and HTSums().rse == 0.0


def test_streamed_and_merged_sums_equal_the_batch() -> None:
    ps = [random.Random(1).uniform(0.01, 1.0) for _ in range(1)] + [0.3, 0.9, 0.05]
    streamed = HTSums()
    for p in ps:
        streamed = streamed.add(p)
    merged = ht_sums(ps[:2]) + ht_sums(ps[2:])
    assert streamed.kept == merged.kept == 4
    assert streamed.estimate == pytest.approx(merged.estimate) == pytest.approx(sum(1 / p for p in ps))
    assert streamed.variance == pytest.approx(merged.variance)


@pytest.mark.parametrize("p", [0.0, -0.1, 1.5, float("nan")])
def test_a_probability_outside_0_1_is_refused(p: float) -> None:
    with pytest.raises(ValueError, match="keep probability"):
        ht_sums([0.5, p])


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# (seconds, events a second, key's status): quiet, a flood that starts, grows and stops, a second
# flood of another key over a trickle, and quiet again: rates change by up to 400x within a run.
PHASES = [(30, 2, 401), (20, 400, 401), (20, 1500, 401), (30, 5, 401), (50, 800, 404), (60, 0.5, 401),
          (25, 900, 401)]


def simulated_run(seed: int) -> tuple[dict[int, int], dict[int, HTSums]]:
    """~10^5 client-error events through decide + record on a simulated clock; (true, estimated) per key."""
    rng, clock = random.Random(seed), Clock()
    rates, policy = AdaptiveRates(clock), default_policy()
    budget = budget_per_minute(policy, "telemetry_upload")
    true: dict[int, int] = {}
    sums: dict[int, HTSums] = {}
    for seconds, per_second, status in PHASES:
        end = clock.now + seconds
        while True:
            clock.now += rng.expovariate(per_second)
            if clock.now >= end:
                clock.now = end
                break
            event = {"trace_id": f"{rng.getrandbits(128):032x}", "operation": "telemetry_upload", "kind": "http",
                     "success": False, "http": {"status_code": status}, "error": {"code": f"E{status}"}}
            rates.advance()
            decision = decide(policy, event, rates)
            rates.record(decision.key, budget)
            true[status] = true.get(status, 0) + 1
            if decision.keep:
                sums[status] = sums.get(status, HTSums()).add(decision.rate)
    return true, sums


def test_counts_stay_unbiased_and_as_precise_as_predicted_through_changing_floods() -> None:
    errors: list[float] = []
    predicted: list[float] = []
    for seed in range(6):
        true, sums = simulated_run(seed)
        assert sum(true.values()) > 98_000
        for status, n in true.items():
            estimate = sums[status]
            # Each run's error lies within 4 of its own predicted standard errors...
            assert abs(estimate.estimate - n) <= 4 * estimate.standard_error + 1, (seed, status)
            # ...and sampling did its job: far fewer kept than seen.
            assert estimate.kept < 0.2 * n
            errors.append((estimate.estimate - n) / n)
            predicted.append(estimate.rse)
    # No bias: the mean relative error of 12 estimates is within 3 of its standard errors of 0.
    spread = statistics.pstdev(errors)
    assert abs(statistics.fmean(errors)) <= 3 * spread / math.sqrt(len(errors))
    # The spread of the errors is what the estimated RSE said it would be (12 samples: within a half).
    expected = math.sqrt(statistics.fmean(r * r for r in predicted))
    assert 0.5 * expected < spread < 1.5 * expected, (spread, expected)
    assert expected < 0.05
