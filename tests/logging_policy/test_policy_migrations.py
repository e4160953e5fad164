"""Data migrations that move a seeded default: only where the policy still holds it, recorded when edited."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.apps import apps

from logging_policy.changes import policy_active_get_or_create
from logging_policy.models import LoggingPolicy, OperationRule, PolicyChange
from logging_policy.policy import policy_payload_active

pytestmark = pytest.mark.django_db
SYNC_RULE = import_module("logging_policy.migrations.0003_policy_sync_rule")
STALE_SWEEP = import_module("logging_policy.migrations.0004_stale_sweep_sampled")
NEW_FACTS = ["charging_session_closed", "weather_catch_up_queued"]


def before_migrations(*, version: int) -> LoggingPolicy:
    """The active policy as the seed of 0002 left it (no policy_sync rule, sweep at 100 %), at `version`."""
    policy = LoggingPolicy.objects.get(is_active=True)
    OperationRule.objects.filter(policy=policy, operation="policy_sync").delete()
    OperationRule.objects.filter(policy=policy, operation="trips_close_stale").update(sample_rate=1.0)
    facts = sorted(set(policy.critical_events) - set(NEW_FACTS))
    LoggingPolicy.objects.filter(pk=policy.pk).update(version=version, critical_events=facts)
    if version > 1:
        PolicyChange.objects.create(policy=policy, version=version, before=None, after={}, changed_by_username="admin")
    return policy


def migrated(policy: LoggingPolicy) -> LoggingPolicy:
    """`policy` after 0003 and 0004, read again."""
    SYNC_RULE.forward(apps, None)
    STALE_SWEEP.forward(apps, None)
    policy.refresh_from_db()
    return policy


def rates(policy: LoggingPolicy) -> dict[str, float]:
    return dict(policy.rules.filter(operation__in=["policy_sync", "trips_close_stale"])
                .values_list("operation", "sample_rate"))


def test_an_untouched_seed_is_edited_in_place_and_back() -> None:
    policy = migrated(before_migrations(version=1))
    assert (policy.version, rates(policy)) == (1, {"policy_sync": 0.001, "trips_close_stale": 0.01})
    assert set(NEW_FACTS) <= set(policy.critical_events) and not PolicyChange.objects.exists()
    STALE_SWEEP.backward(apps, None)
    SYNC_RULE.backward(apps, None)
    policy.refresh_from_db()
    assert rates(policy) == {"trips_close_stale": 1.0} and not set(NEW_FACTS) & set(policy.critical_events)


def test_an_edited_policy_gets_a_new_version_and_a_history_entry_per_migration() -> None:
    policy = migrated(before_migrations(version=4))
    assert (policy.version, rates(policy)) == (6, {"policy_sync": 0.001, "trips_close_stale": 0.01})
    sync, sweep = PolicyChange.objects.exclude(changed_by_username="admin").order_by("version")
    assert (sync.changed_by_username, sync.version, sync.changed_by) == ("migration 0003_policy_sync_rule", 5, None)
    assert sync.diff == {"rules.policy_sync.always_keep": [None, False], "rules.policy_sync.sample_rate": [None, 0.001]}
    assert sweep.before is not None
    assert (sweep.changed_by_username, sweep.before["version"]) == ("migration 0004_stale_sweep_sampled", 5)
    assert sweep.diff["rules.trips_close_stale.sample_rate"] == [1.0, 0.01]
    assert set(sweep.diff["critical_events"][1]) - set(sweep.diff["critical_events"][0]) == set(NEW_FACTS)
    assert sweep.after == policy_payload_active()


def test_a_rate_the_admin_chose_is_left_alone() -> None:
    policy = before_migrations(version=3)
    OperationRule.objects.filter(policy=policy, operation="trips_close_stale").update(sample_rate=0.5)
    OperationRule.objects.create(policy=policy, operation="policy_sync", sample_rate=0.2)
    migrated(policy)
    assert rates(policy) == {"policy_sync": 0.2, "trips_close_stale": 0.5}
    # Only the new facts changed: one history entry, by 0004.
    assert list(PolicyChange.objects.exclude(changed_by_username="admin").values_list("changed_by_username", flat=True)) \
        == ["migration 0004_stale_sweep_sampled"]
    assert policy.version == 4


def test_a_policy_recreated_from_the_defaults_equals_the_migrations_seed() -> None:
    seeded = policy_payload_active()
    LoggingPolicy.objects.all().delete()  # what a transactional test's flush leaves
    recreated = policy_active_get_or_create()
    assert (recreated.version, recreated.rules.count() > 0) == (1, True)
    assert policy_payload_active() == seeded
