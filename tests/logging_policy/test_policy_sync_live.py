"""A save whose publish was lost reaches other processes through a real beat and a real worker."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import Permission, User
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from logging_policy.changes import policy_active_get_or_create
from logging_policy.policy import CACHE_KEY, policy_current, policy_forget, policy_heal_bound_s
from tests.live import LiveProcess, live_beat_start, live_env, live_process_stop
from tests.logging_policy.policy_form import policy_form_data
from tests.logging_policy.test_policy_cache import REDIS_AWAY
from volttracker.celery import app


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_a_save_made_while_redis_blinked_is_in_force_everywhere_within_the_bound(
        live_worker: LiveProcess, client, tmp_path) -> None:
    policy = policy_active_get_or_create()  # transactional tests before this one flush the seed away
    assert policy_current().version == policy.version  # the shared copy every process reads
    user = User.objects.create_user("live-sync-editor", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_sampling_policy"))
    client.force_login(user)
    beat = live_beat_start(tmp_path, live_env(tmp_path))  # the default schedule: a sync every 5 s
    try:
        with override_settings(CACHES=REDIS_AWAY):  # the publish fails; the commit does not
            page = client.post(reverse("admin:logging_policy_loggingpolicy_change", args=[policy.pk]),
                               policy_form_data(policy, default_sample_rate=0.2), follow=True).content.decode()
        saved_at = time.monotonic()
        assert "could not be reached: every process applies this policy within 7 seconds" in page
        policy.refresh_from_db()
        assert cache.get(CACHE_KEY)["version"] == policy.version - 1

        def in_force_in_another_process() -> bool:
            policy_forget()  # this process's snapshot, not the shared copy
            return policy_current().version == policy.version

        # The chain under test: beat -> broker -> worker -> Redis. The bound's other 2 s is a
        # process's own check interval, which policy_forget() skips here.
        beat.wait_until(in_force_in_another_process, "the saved policy in force", timeout=policy_heal_bound_s())
        took = time.monotonic() - saved_at
    finally:
        live_process_stop(beat)
        app.control.purge()  # no sync left queued to rewrite the shared copy under later tests
    assert policy_current().default_sample_rate == 0.2
    event = live_worker.wait_for_event(lambda e: e["operation"] == "policy_sync"
                                       and e["policy"].get("version") == policy.version
                                       and e["policy"].get("republished"))
    assert event["policy"] == {"version": policy.version, "shared_version": policy.version - 1, "republished": True}
    assert (event["business"], event["sampling"]["reason"]) == ({"policy_republished": True}, "critical_event")
    print(f"in force {took:.2f}s after the save (bound {policy_heal_bound_s():g}s)")
