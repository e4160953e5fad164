"""A committed policy change whose publish was lost is put in force by beat's `policy_sync`.

Another process is played by this one after `policy_forget()`: its local snapshot gone, the
shared copy in the real Redis untouched, as a web or worker process that never saw the save.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import replace
from typing import Any

import pytest
import redis
from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from logging_policy.models import LoggingPolicy
from logging_policy.payload import snapshot_from_payload
from logging_policy.policy import CACHE_KEY, CACHE_TIMEOUT_S, policy_current, policy_forget, policy_payload_active
from logging_policy.sampling import decide, default_policy
from logging_policy.synthetic import trace_id_drawing
from logging_policy.tasks import policy_sync
from tests.logging_policy.policy_form import policy_form_data
from tests.logging_policy.test_policy_cache import REDIS_AWAY

pytestmark = pytest.mark.django_db


def admin_save(client: Any, **changes: Any) -> None:
    """Save the policy through the admin as an editor."""
    policy = LoggingPolicy.objects.get(is_active=True)
    user = User.objects.create_user("sync-editor", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_sampling_policy"))
    client.force_login(user)
    url = reverse("admin:logging_policy_loggingpolicy_change", args=[policy.pk])
    assert client.post(url, policy_form_data(policy, **changes)).status_code == 302


def in_another_process() -> Any:
    policy_forget()  # this process's snapshot only: the shared copy stays as it is
    return policy_current()


def sync_events(capture: Any) -> list[dict[str, Any]]:
    return [e for e in capture.events if e["operation"] == "policy_sync"]


@pytest.mark.parametrize("lost", ["redis_blip", "died_after_commit"])
def test_a_change_whose_publish_was_lost_is_in_force_everywhere_after_the_next_sync(
        lost, client, sampled_events, django_capture_on_commit_callbacks) -> None:
    assert policy_current().version == 1  # the shared copy: version 1, as every process holds it
    # A blip: Redis refuses the publish. Died: the commit happened, the on-commit publish never ran.
    with override_settings(CACHES=REDIS_AWAY) if lost == "redis_blip" else nullcontext():
        with django_capture_on_commit_callbacks(execute=lost == "redis_blip"):
            admin_save(client, rules={"telemetry_upload": {"sample_rate": 1.0}})
    assert LoggingPolicy.objects.get().version == 2
    if lost == "redis_blip":
        [changed] = [e for e in sampled_events.events if e["operation"] == "policy_changed"]
        assert changed["policy"]["published"] is False
        assert "within 7 s of it coming back" in changed["warnings"][0]["message"]
    assert cache.get(CACHE_KEY)["version"] == 1
    assert in_another_process().version == 1  # the gap: the old policy, with no expiry in sight

    assert policy_sync.apply().get() is True  # what the worker runs when beat sends it

    current = in_another_process()
    assert (current.version, current.rules["telemetry_upload"].sample_rate, current.source) == (2, 1.0, "cache")
    assert cache.get(CACHE_KEY) == policy_payload_active()
    [event] = sync_events(sampled_events)
    assert event["policy"] == {"version": 2, "shared_version": 1, "republished": True}
    assert event["business"] == {"policy_republished": True}
    assert (event["success"], event["sampling"]["reason"], event["sampling"]["rate"]) == (True, "critical_event", 1.0)


def test_an_idle_sync_renews_the_shared_copy_and_is_sampled_at_a_low_rate(wide_events) -> None:
    cache.set(CACHE_KEY, policy_payload_active(), 5)  # as a process fills it, about to expire
    assert policy_sync.apply().get() is False
    key = cache.make_key(CACHE_KEY)
    # Renewed: no process has to refill it from the database while beat runs.
    assert CACHE_TIMEOUT_S - 5 < redis.Redis.from_url(settings.REDIS_URL).ttl(key) <= CACHE_TIMEOUT_S
    [event] = sync_events(wide_events)  # kept here only because this test keeps everything
    assert event["policy"] == {"version": 1, "shared_version": 1, "republished": False}
    assert event["business"] == {}
    active = policy_payload_active()
    assert active is not None
    seeded = snapshot_from_payload(active, source="database")
    decision = decide(seeded, {**event, "trace_id": trace_id_drawing(at_least=0.01)})
    assert (decision.keep, decision.reason, decision.rate) == (False, "operation_rate", 0.001)


def test_a_sync_with_no_active_policy_removes_the_shared_copy() -> None:
    policy_current()
    assert cache.get(CACHE_KEY) is not None
    LoggingPolicy.objects.all().delete()
    assert policy_sync.apply().get() is True
    assert cache.get(CACHE_KEY) is None
    snapshot = in_another_process()
    assert (snapshot.source, replace(snapshot, version=0)) == ("defaults", default_policy())


def test_beat_runs_the_sync_every_few_seconds_and_drops_runs_left_queued() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["sync-policy"]
    assert entry == {"task": "logging_policy.tasks.policy_sync", "schedule": 5.0, "options": {"expires": 5.0}}
    assert policy_sync.name == entry["task"]


def test_a_sync_never_replaces_a_newer_shared_copy_with_the_database_read() -> None:
    # As if an admin save published version 2 after the sync read the database (version 1).
    active = policy_payload_active()
    assert active is not None
    newer = {**active, "version": 2, "default_sample_rate": 0.5}
    cache.set(CACHE_KEY, newer, CACHE_TIMEOUT_S)
    assert policy_sync.apply().get() is False
    assert cache.get(CACHE_KEY) == newer
