"""The policy payload's one builder (logging_policy/payload.py), for every kind of policy it is given."""

from __future__ import annotations

from types import SimpleNamespace

from logging_policy.payload import policy_payload, snapshot_from_payload, snapshot_to_payload
from logging_policy.sampling import AUDIT_EVENTS, default_policy


def test_a_snapshot_round_trips_without_its_audit_events() -> None:
    snapshot = default_policy()
    payload = snapshot_to_payload(snapshot)
    assert not AUDIT_EVENTS & set(payload["critical_events"])  # always critical: not the admin's to choose
    assert snapshot_from_payload(payload, source=snapshot.source) == snapshot


def test_a_row_from_before_the_budget_fields_gets_no_budget_keys() -> None:
    # What a data migration's historical model of 0001-0004 holds: no budgets, no key fields.
    row = SimpleNamespace(version=3, default_sample_rate=0.05, default_slow_threshold_ms=1000, heavy_min_trips=100,
                          moderate_min_trips=20, new_vehicle_days=30, new_vehicle_rate=0.25, dry_run=False,
                          always_keep_tiers=["heavy"], critical_events=["trip_created", "gas_mode_entered"])
    rule = SimpleNamespace(sample_rate=0.01, always_keep=False, slow_threshold_ms=None)
    assert policy_payload(row, [("trips_close_stale", rule)]) == {
        "version": 3, "default_sample_rate": 0.05, "default_slow_threshold_ms": 1000.0, "heavy_min_trips": 100,
        "moderate_min_trips": 20, "new_vehicle_days": 30, "new_vehicle_rate": 0.25, "dry_run": False,
        "always_keep_tiers": ["heavy"], "critical_events": ["gas_mode_entered", "trip_created"],
        "rules": {"trips_close_stale": {"sample_rate": 0.01, "always_keep": False, "slow_threshold_ms": None}},
    }
