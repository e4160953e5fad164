"""The keep/drop decision: order, accuracy over many events, tiers, determinism, dry-run."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from logging_policy.sampling import (
    OperationRule,
    PolicySnapshot,
    decide,
    default_policy,
    trace_draw,
    usage_tier,
)
from logging_policy.synthetic import synthetic_event, synthetic_events

POLICY = default_policy()


def kept_share(events: list[dict], policy: PolicySnapshot = POLICY) -> tuple[float, float]:
    """(share kept, weighted count of the kept events)."""
    decisions = [decide(policy, e) for e in events]
    kept = [d for d in decisions if d.keep]
    return len(kept) / len(events), sum(d.sample_rate for d in kept)


def test_uploads_at_five_percent_are_kept_at_five_percent_and_reweight_to_the_truth() -> None:
    events = synthetic_events(100_000, seed=5)
    share, weighted = kept_share(events)
    assert share == pytest.approx(0.05, abs=0.003)
    assert weighted == pytest.approx(100_000, rel=0.03)
    assert {decide(POLICY, e).reason for e in events[:50]} == {"operation_rate"}


@pytest.mark.parametrize(("profile", "reason"), [
    ("error", "error"), ("slow", "slow"), ("critical", "critical_event"), ("heavy", "always_keep_tier"),
])
def test_errors_slow_critical_and_heavy_are_all_kept(profile: str, reason: str) -> None:
    decisions = [decide(POLICY, e) for e in synthetic_events(10_000, profile=profile, seed=7)]
    assert all(d.keep for d in decisions)
    assert {d.reason for d in decisions} == {reason}
    assert {d.sample_rate for d in decisions} == {1.0}


def test_new_vehicles_are_kept_at_about_a_quarter() -> None:
    events = synthetic_events(40_000, profile="new_vehicle", seed=9)
    share, weighted = kept_share(events)
    assert share == pytest.approx(0.25, abs=0.01)
    assert weighted == pytest.approx(40_000, rel=0.03)
    assert decide(POLICY, events[0]).reason == "new_vehicle"


def test_a_vehicle_without_lifetime_context_counts_as_new() -> None:
    event = {"trace_id": "t", "operation": "telemetry_upload", "success": True, "duration_ms": 5.0,
             "vehicle": {"id": 1}}
    assert decide(POLICY, event).rate == 0.25


def test_an_operation_raised_above_the_new_vehicle_rate_keeps_new_vehicles_whole() -> None:
    policy = replace(POLICY, rules={"telemetry_upload": OperationRule(sample_rate=1.0)})
    decisions = [decide(policy, e) for e in synthetic_events(2_000, profile="new_vehicle", seed=3)]
    assert all(d.keep for d in decisions)
    assert {d.reason for d in decisions} == {"operation_rate"}


def test_the_order_error_beats_slow_beats_critical() -> None:
    event = synthetic_event("critical", random.Random(1))
    event.update(success=False, duration_ms=5000.0)
    assert decide(POLICY, event).reason == "error"
    event["success"] = True
    assert decide(POLICY, event).reason == "slow"
    event["duration_ms"] = 1.0
    assert decide(POLICY, event).reason == "critical_event"


def test_an_operation_slow_threshold_overrides_the_default() -> None:
    policy = replace(POLICY, rules={"telemetry_upload": OperationRule(sample_rate=0.0, slow_threshold_ms=50.0)})
    event = {"trace_id": "x", "operation": "telemetry_upload", "success": True, "duration_ms": 60.0}
    assert decide(policy, event).reason == "slow"
    event["duration_ms"] = 40.0
    assert decide(policy, event).keep is False


def test_unknown_operations_use_the_default_rate() -> None:
    event = {"trace_id": "x", "operation": "vehicle_trips", "success": True, "duration_ms": 1.0}
    decision = decide(replace(POLICY, default_sample_rate=0.5), event)
    assert (decision.reason, decision.rate, decision.sample_rate) == ("default_rate", 0.5, 2.0)


def test_policy_changed_is_kept_by_every_policy() -> None:
    drop_all = PolicySnapshot(default_sample_rate=0.0, critical_events=frozenset())
    event = {"trace_id": "x", "operation": "policy_changed", "success": True, "business": {"policy_changed": True}}
    assert decide(drop_all, event).keep is False  # a bare snapshot does not know it...
    assert decide(default_policy(), event).reason == "critical_event"  # ...every real one does


@pytest.mark.parametrize(("trips", "tier"), [
    (None, "new"), (0, "new"), (1, "light"), (19, "light"), (20, "moderate"), (99, "moderate"),
    (100, "heavy"), (5000, "heavy"),
])
def test_usage_tier_boundaries(trips: int | None, tier: str) -> None:
    assert usage_tier(trips, POLICY) == tier


def test_usage_tier_follows_the_current_thresholds() -> None:
    policy = replace(POLICY, moderate_min_trips=5, heavy_min_trips=10)
    assert [usage_tier(n, policy) for n in (4, 5, 9, 10)] == ["light", "moderate", "moderate", "heavy"]
    event = {"trace_id": "x", "operation": "telemetry_upload", "success": True, "duration_ms": 1.0,
             "vehicle": {"total_trips": 10, "account_age_days": 400}}
    assert decide(policy, event).reason == "always_keep_tier"
    assert decide(POLICY, event).reason == "operation_rate"


def test_the_draw_is_fixed_by_the_trace_id() -> None:
    assert trace_draw("4bf92f3577b34da6a3ce929d0e0e4736") == trace_draw("4bf92f3577b34da6a3ce929d0e0e4736")
    assert trace_draw("4bf92f3577b34da6a3ce929d0e0e4736") != trace_draw("4bf92f3577b34da6a3ce929d0e0e4737")
    # Pinned: web and worker of two releases must agree. A W3C id's draw is its last 13 hex digits over 2**52.
    assert trace_draw("4bf92f3577b34da6a3ce929d0e0e4736") == int("a3ce929d0e0e4736"[-13:], 16) / 2**52
    assert trace_draw("4bf92f3577b34da6a3ce929d0e0e4736") == pytest.approx(0.91079431, abs=1e-8)
    # Any other id is hashed (BLAKE2b), so a client's own ids draw uniformly too.
    assert trace_draw("request-42") == pytest.approx(0.97337360, abs=1e-8)
    assert trace_draw("4bf92f3577b34da6a3ce929d0e0e473z") == pytest.approx(0.84395529, abs=1e-8)


def test_draws_from_hex_ids_and_from_hashed_ids_are_both_uniform() -> None:
    rng = random.Random(11)
    for ids in ([f"{rng.getrandbits(128):032x}" for _ in range(20_000)],
                [f"req-{rng.getrandbits(64)}" for _ in range(20_000)]):
        draws = sorted(trace_draw(t) for t in ids)
        # Kolmogorov-Smirnov distance to the uniform distribution; 0.0115 is its 1 % critical value at n = 20,000.
        assert max(max(abs(d - i / len(draws)), abs(d - (i + 1) / len(draws))) for i, d in enumerate(draws)) < 0.0115


def test_a_request_and_its_task_in_one_trace_reach_the_same_decision() -> None:
    policy = replace(POLICY, rules={"telemetry_upload": OperationRule(sample_rate=0.3),
                                    "telemetry.tasks.trip_finalize": OperationRule(sample_rate=0.3)})
    for event in synthetic_events(2_000, seed=11):
        task = {**event, "operation": "telemetry.tasks.trip_finalize", "kind": "task", "duration_ms": 3.0}
        assert decide(policy, event).keep == decide(policy, task).keep


def test_dry_run_keeps_everything_and_says_what_would_happen() -> None:
    policy = replace(POLICY, dry_run=True)
    decisions = [decide(policy, e) for e in synthetic_events(20_000, seed=13)]
    assert all(d.keep for d in decisions)
    would = sum(d.would_keep for d in decisions) / len(decisions)
    assert would == pytest.approx(0.05, abs=0.006)
    enforced = [decide(POLICY, e).keep for e in synthetic_events(20_000, seed=13)]
    assert [d.would_keep for d in decisions] == enforced


def test_zero_rate_drops_and_weights_nothing() -> None:
    policy = replace(POLICY, rules={"telemetry_upload": OperationRule(sample_rate=0.0)})
    decisions = [decide(policy, e) for e in synthetic_events(1_000, seed=17)]
    assert not any(d.keep for d in decisions)
    assert {d.sample_rate for d in decisions} == {0.0}
