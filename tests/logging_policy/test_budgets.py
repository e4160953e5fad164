"""Per-key budgets (logging_policy/adaptive.py): floods sampled down, faults and rare keys whole."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from typing import Any

import pytest

from logging_policy.adaptive import (
    MAX_KEYS,
    MEMO_MAX,
    OVERFLOW_KEY,
    TAU_S,
    AdaptiveRates,
    key_paths,
    route_class,
    sampling_key,
)
from logging_policy.estimator import HTSums
from logging_policy.sampling import (
    Decision,
    OperationRule,
    PolicySnapshot,
    budget_per_minute,
    decide,
    default_policy,
)
from logging_policy.synthetic import synthetic_events

POLICY = default_policy()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def failed(rng: random.Random, status: int = 401, code: str = "E400", operation: str = "telemetry_upload",
           **http: Any) -> dict[str, Any]:
    return {"trace_id": f"{rng.getrandbits(128):032x}", "operation": operation, "kind": "http", "success": False,
            "http": {"status_code": status, **http}, "error": {"code": code}}


def run(policy: PolicySnapshot, rates: AdaptiveRates, event: dict[str, Any]) -> Decision:
    """What event_emit does: bring the counts to the present, decide, then count the event for its key."""
    rates.advance()
    decision = decide(policy, event, rates)
    if decision.key:
        rates.record(decision.key, budget_per_minute(policy, event["operation"]))
    return decision


def flood(seed: int, n: int = 3000, seconds: float = 2.0) -> tuple[int, float]:
    rng, clock = random.Random(seed), Clock()
    rates, kept = AdaptiveRates(clock), HTSums()
    for _ in range(n):
        clock.now += seconds / n
        decision = run(POLICY, rates, failed(rng))
        if decision.keep:
            kept = kept.add(decision.rate)
    return kept.kept, kept.estimate


def test_a_burst_of_3000_unknown_tokens_keeps_under_30_percent_and_counts_within_15_percent_every_run() -> None:
    runs = [flood(seed) for seed in range(200)]
    assert max(kept for kept, _ in runs) <= 900
    errors = [abs(estimate - 3000) / 3000 for _, estimate in runs]
    # Independent draws at RSE ~4.6 % put 0.1-0.2 % of runs beyond 15 % (docs/policy.md: 4 of 2,000 seeds);
    # these 200 seeded runs hold one (seed 125, 16 %), none beyond 20 %.
    assert sum(error >= 0.15 for error in errors) <= 1
    assert max(errors) < 0.20
    assert math.sqrt(sum(e * e for e in errors) / len(errors)) < 0.055
    print(f"kept {min(k for k, _ in runs)}-{max(k for k, _ in runs)} of 3000; worst HT error {max(errors):.1%} in 200 runs")


def test_the_first_event_of_a_key_is_kept_whole_and_the_flood_is_not() -> None:
    rng, clock = random.Random(3), Clock()
    rates = AdaptiveRates(clock)
    decisions = [run(POLICY, rates, failed(rng)) for _ in range(3000)]
    assert decisions[0] == Decision(True, "client_error", 1.0, True, "telemetry_upload|401|E400")
    assert decisions[-1].rate < 0.1 and decisions[-1].reason == "client_error"
    # Another key during the flood: its own first events are kept whole.
    other = [run(POLICY, rates, failed(rng, 400, code)) for code in ("E300", "E301", "E302", "E303", "E306")]
    assert [(d.keep, d.rate) for d in other] == [(True, 1.0)] * 5


def test_every_server_fault_is_kept_during_a_flood() -> None:
    rng, rates = random.Random(4), AdaptiveRates(Clock())
    for _ in range(3000):
        run(POLICY, rates, failed(rng))
    faults = [failed(rng, 500, "E500") for _ in range(200)] + [failed(rng, 503, "E200") for _ in range(200)]
    faults += [failed(rng, 401, "E201")]  # a database fault, whatever the status
    faults += [{**e, "http": {}} for e in synthetic_events(100, profile="error", seed=4)]  # an exception in a task
    decisions = [run(POLICY, rates, event) for event in faults]
    assert {(d.keep, d.reason, d.rate, d.key) for d in decisions} == {(True, "error", 1.0, "")}


def test_a_key_seen_once_an_hour_is_kept_whole_even_after_a_flood() -> None:
    rng, clock = random.Random(5), Clock()
    rates = AdaptiveRates(clock)
    for _ in range(5000):
        clock.now += 0.001
        run(POLICY, rates, failed(rng))
    assert rates.cap("telemetry_upload|401|E400") < 0.05
    hourly = []
    for _ in range(24):
        clock.now += 3600
        hourly.append(run(POLICY, rates, failed(rng)))
    assert {(d.keep, d.rate) for d in hourly} == {(True, 1.0)}


def test_a_normal_drive_is_sampled_as_without_budgets() -> None:
    clock = Clock()
    rates = AdaptiveRates(clock)
    events = synthetic_events(3600, seed=6)  # one upload a second for an hour
    with_budget = []
    for event in events:
        clock.now += 1.0
        with_budget.append(run(POLICY, rates, {**event, "http": {"status_code": 200}}))
    without = [decide(POLICY, {**e, "http": {"status_code": 200}}) for e in events]
    assert [d.keep for d in with_budget] == [d.keep for d in without]
    assert {(d.rate, d.reason) for d in with_budget} == {(0.05, "operation_rate")}
    assert {d.key for d in with_budget} == {"telemetry_upload|200|"}


def test_a_steady_flood_keeps_its_budget_a_minute() -> None:
    rng, clock = random.Random(7), Clock()
    rates = AdaptiveRates(clock)
    policy = replace(POLICY, default_budget_per_minute=600)
    kept_per_minute = []
    for _minute in range(6):
        kept = 0
        for _ in range(200 * 60):  # 200 a second
            clock.now += 1 / 200
            kept += run(policy, rates, failed(rng)).keep
        kept_per_minute.append(kept)
    # The first minute keeps the flood's first 600 whole and then ever fewer; once the moving count
    # has filled (a few minutes), the budget.
    assert 600 * 2 < kept_per_minute[0] < 600 * (1 + math.e * math.log(12_000 / 600)), kept_per_minute
    assert all(abs(k - 600) < 0.1 * 600 for k in kept_per_minute[3:]), kept_per_minute


def test_an_operation_budget_overrides_the_default_and_only_ever_lowers_a_rate() -> None:
    policy = replace(POLICY, rules={**POLICY.rules, "telemetry_upload": OperationRule(0.05, budget_per_minute=3)})
    assert budget_per_minute(policy, "telemetry_upload") == 3
    assert budget_per_minute(policy, "vehicle_trips") == POLICY.default_budget_per_minute
    rng, rates = random.Random(8), AdaptiveRates(Clock())
    decisions = [run(policy, rates, failed(rng)) for _ in range(500)]
    b = 3 * TAU_S / 60
    assert [d.rate for d in decisions[:3]] == [1.0, 1.0, 1.0]
    assert decisions[-1].rate == pytest.approx(b / 499, rel=1e-6)  # the cap b / x of the 499 before it
    assert all(0 < d.rate <= 1.0 for d in decisions)


@pytest.mark.parametrize(("path", "kind"), [
    ("/wp-login.php", "scanner"), ("/.env", "scanner"), ("/.git/config", "scanner"), ("/cgi-bin/x", "scanner"),
    ("/favicon.ico", "static"), ("/static/app.css", "static"), ("/robots.txt", "static"),
    ("/api/nothing/here", "other"), ("/", "other"),
])
def test_unrouted_paths_fall_into_a_route_class(path: str, kind: str) -> None:
    assert route_class(path) == kind


def test_a_scanner_inventing_paths_makes_one_key_and_the_key_count_is_capped() -> None:
    rng, rates = random.Random(9), AdaptiveRates(Clock())
    keys = {run(POLICY, rates, failed(rng, 404, "E004", "http_unrouted", path=f"/x{i}.php")).key for i in range(2000)}
    assert keys == {"http_unrouted|scanner|404|E004"}
    policy = replace(POLICY, key_fields=("http.status_code", "http.method"))
    keys = {run(policy, rates, failed(rng, 405, "E003", method=f"M{i}")).key for i in range(MAX_KEYS + 500)}
    # The scanner's key and 999 of these make MAX_KEYS; every later one shares the overflow key.
    assert len(rates.snapshot()) == MAX_KEYS + 1 and OVERFLOW_KEY in keys
    assert len(keys) == MAX_KEYS


def test_quiet_keys_are_forgotten() -> None:
    clock = Clock()
    rates = AdaptiveRates(clock)
    rates.record("a|1", 800)
    clock.now += TAU_S * 5  # the count decays to 1 * e^-5, below FORGET_BELOW
    rates.advance()
    rates.record("b|1", 800)
    assert set(rates.snapshot()) == {"b|1"}


def test_the_key_names_the_operation_and_the_policy_fields() -> None:
    event = {"operation": "vehicle_trips", "http": {"status_code": 403, "method": "GET"}, "error": {"code": "E402"}}
    default = key_paths(("http.status_code", "error.code"))
    assert sampling_key("vehicle_trips", event, default) == "vehicle_trips|403|E402"
    assert sampling_key("vehicle_trips", event, key_paths(("http.method",))) == "vehicle_trips|GET"
    assert sampling_key("trip_finalize", {"task": {"state": "SUCCESS"}}, default) == "trip_finalize||"
    assert sampling_key("http_unrouted", {"http": {"path": "/.env", "status_code": 404}}, default) \
        == "http_unrouted|scanner|404|"


def test_a_remembered_key_is_the_key_built_from_the_event() -> None:
    """decide finds a known key in AdaptiveRates' memo; it must equal sampling_key's, whatever the event."""
    rng, rates = random.Random(11), AdaptiveRates(Clock())
    sections: list[dict[str, Any] | None] = [None, {}, {"status_code": 200}, {"status_code": 401},
                                             {"status_code": "401"}, {"status_code": [1]}, {"status_code": "x" * 60}]
    errors: list[dict[str, Any] | str | None] = [None, {"code": "E400"}, {"code": None}, {"code": {"nested": 1}}, "E400"]
    for policy in (POLICY, replace(POLICY, key_fields=("http.method",)), replace(POLICY, key_fields=())):
        for _ in range(2):  # the second pass reads the memo
            for http in sections:
                for error in errors:
                    event = {**failed(rng), "http": http, "error": error, "success": True}
                    event = {k: v for k, v in event.items() if v is not None}
                    expected = sampling_key("telemetry_upload", event, policy.key_paths)
                    assert decide(policy, event, rates).key == expected, event


def test_the_key_memo_is_bounded() -> None:
    rng, rates = random.Random(12), AdaptiveRates(Clock())
    policy = replace(POLICY, key_fields=("http.method",))
    for i in range(MEMO_MAX + 300):  # a client inventing a method per request
        assert decide(policy, failed(rng, 405, method=f"M{i}"), rates).key == f"telemetry_upload|M{i}"

    def leaves(node: Any) -> int:
        return sum(leaves(child) for child in node.values()) if isinstance(node, dict) else 1

    assert leaves(rates.memo) == MEMO_MAX
