"""The policy's admin page, through the admin's own views: validation, audit, permission."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from logging_policy.models import LoggingPolicy, PolicyChange
from logging_policy.policy import CACHE_KEY, policy_current
from logging_policy.synthetic import trace_id_drawing
from telemetry.drive_sim import DrivePlan, drive_readings
from tests.logging_policy.policy_form import policy_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy() -> LoggingPolicy:
    return LoggingPolicy.objects.get(is_active=True)


def staff(username: str, *perms: str) -> User:
    user = User.objects.create_user(username, password="x", is_staff=True)
    for codename in perms:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="logging_policy", codename=codename))
    return user


@pytest.fixture
def editor() -> User:
    return staff("policy-editor", "change_sampling_policy")


def assert_refused(response: Any) -> None:
    assert response.status_code == 403, response.status_code


def change_url(policy: LoggingPolicy) -> str:
    return reverse("admin:logging_policy_loggingpolicy_change", args=[policy.pk])


def save(client: Client, user: User, policy: LoggingPolicy, **changes: Any) -> Any:
    client.force_login(user)
    return client.post(change_url(policy), policy_form_data(policy, **changes), follow=True)


def test_a_save_records_who_changed_what_and_puts_it_in_force(client, editor, policy, sampled_events,
                                                              django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = save(client, editor, policy, default_sample_rate=0.1,
                        rules={"telemetry_upload": {"sample_rate": 1.0}})
    assert response.status_code == 200 and "was changed successfully" in response.content.decode()

    change = PolicyChange.objects.get()
    assert (change.changed_by, change.changed_by_username, change.version) == (editor, "policy-editor", 2)
    assert change.before is not None and change.after is not None
    assert change.before["default_sample_rate"] == 0.05 and change.after["default_sample_rate"] == 0.1
    assert change.diff == {"default_sample_rate": [0.05, 0.1], "rules.telemetry_upload.sample_rate": [0.05, 1.0]}

    current = policy_current()  # this process at once, every other one through Redis
    assert (current.version, current.rules["telemetry_upload"].sample_rate) == (2, 1.0)
    assert cache.get(CACHE_KEY) == change.after

    [event] = [e for e in sampled_events.events if e["operation"] == "policy_changed"]
    assert event["business"] == {"policy_changed": True}
    assert event["sampling"]["reason"] == "critical_event"
    assert event["policy"]["version"] == 2 and event["policy"]["previous_version"] == 1
    assert event["policy"]["changes"]["rules.telemetry_upload.sample_rate"] == [0.05, 1.0]
    assert event["actor"] == {"user_id": editor.pk}
    assert "policy-editor" not in orjson_line(sampled_events, event)


def orjson_line(capture: Any, event: dict[str, Any]) -> str:
    return next(line for line in capture.lines if event["request_id"] in line and "policy_changed" in line)


@pytest.mark.parametrize(("changes", "message"), [
    ({"default_sample_rate": "1.5"}, "A rate is a fraction between 0 and 1"),
    ({"new_vehicle_rate": "-0.1"}, "A rate is a fraction between 0 and 1"),
    ({"rules": {"telemetry_upload": {"sample_rate": "2"}}}, "A rate is a fraction between 0 and 1"),
    ({"moderate_min_trips": 100, "heavy_min_trips": 100},
     "The moderate threshold (100 trips) must be below the heavy threshold (100 trips)."),
    ({"default_slow_threshold_ms": 0}, "The slow threshold must be a positive whole number"),
    ({"heavy_min_trips": 0}, "The heavy tier threshold must be a positive whole number"),
    ({"critical_events": ["trip_created", "made_up_event"]}, "Unknown event name made_up_event. Known: trip_created"),
    ({"always_keep_tiers": ["gold"]}, "Unknown tier gold. Known: new, light, moderate, heavy."),
    ({"rules": {"telemetry_upload": {"operation": "Upload Now!"}}}, "An operation name is lower-case letters"),
])
def test_invalid_input_is_refused_with_a_message(client, editor, policy, changes, message) -> None:
    response = save(client, editor, policy, **changes)
    assert response.status_code == 200
    assert message in response.content.decode().replace("&#x27;", "'")
    assert "Please correct the error" in response.content.decode()
    policy.refresh_from_db()
    assert policy.version == 1 and policy.default_sample_rate == 0.05
    assert not PolicyChange.objects.exists()


def test_two_rules_for_one_operation_are_refused(client, editor, policy) -> None:
    response = save(client, editor, policy, rules={"external_api.weather": {"operation": "telemetry_upload"}})
    assert "Please correct the duplicate data for operation" in response.content.decode()
    assert not PolicyChange.objects.exists()


def test_staff_with_the_models_own_permissions_cannot_edit(client, policy) -> None:
    user = staff("staff-only", "view_loggingpolicy", "change_loggingpolicy", "change_operationrule")
    client.force_login(user)
    page = client.get(change_url(policy))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()  # read-only view
    assert_refused(client.post(change_url(policy), policy_form_data(policy, default_sample_rate=1.0)))
    policy.refresh_from_db()
    assert (policy.default_sample_rate, policy.version) == (0.05, 1)


def test_staff_without_any_policy_permission_cannot_see_it(client, policy) -> None:
    client.force_login(staff("stranger"))
    assert_refused(client.get(change_url(policy)))
    assert_refused(client.get(reverse("admin:logging_policy_policychange_changelist")))
    assert_refused(client.post(change_url(policy), policy_form_data(policy, default_sample_rate=1.0)))
    assert LoggingPolicy.objects.get().version == 1


def test_the_policy_list_opens_the_one_policy(client, editor, policy) -> None:
    client.force_login(editor)
    response = client.get(reverse("admin:logging_policy_loggingpolicy_changelist"))
    assert response.status_code == 302 and response["Location"] == change_url(policy)
    page = client.get(change_url(policy)).content.decode()
    assert "Higher keeps more events: more log volume." in page  # help text on the knobs


def test_the_change_history_is_viewable_and_read_only(client, editor, policy,
                                                      django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        save(client, editor, policy, new_vehicle_days=14)
    change = PolicyChange.objects.get()
    listing = client.get(reverse("admin:logging_policy_policychange_changelist")).content.decode()
    assert "policy-editor" in listing and "new_vehicle_days: 30 → 14" in listing
    detail = client.get(reverse("admin:logging_policy_policychange_change", args=[change.pk]))
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
    assert_refused(client.get(reverse("admin:logging_policy_policychange_add")))
    assert_refused(client.post(reverse("admin:logging_policy_policychange_delete", args=[change.pk]), {"post": "yes"}))
    assert PolicyChange.objects.count() == 1


def test_dry_run_keeps_everything_and_says_what_would_have_happened(client, editor, policy, volt, upload,
                                                                    sampled_events,
                                                                    django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        save(client, editor, policy, dry_run=True)
    readings = drive_readings(DrivePlan(session="dry-1", start=datetime(2026, 3, 2, tzinfo=UTC), gas_miles=0.0))
    upload(volt.token, next(readings))  # opens the trip: critical, kept either way
    dropped = trace_id_drawing(at_least=0.25)  # above the new-vehicle rate: dropped when enforced
    upload(volt.token, next(readings), traceparent=f"00-{dropped}-{'2' * 16}-01")
    event = sampled_events.events[-1]
    assert event["trace_id"] == dropped
    assert event["sampling"] == {"reason": "new_vehicle", "rate": 0.25, "sample_rate": 4.0, "policy_version": 2,
                                 "policy_source": "database", "dry_run": True, "would_keep": False,
                                 "key": "telemetry_upload|200|"}
