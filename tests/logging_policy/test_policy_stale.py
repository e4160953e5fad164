"""Two admins editing the policy at once: a save made from a page older than the policy is refused."""

from __future__ import annotations

import html
import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from logging_policy.changes import policy_active_get_or_create
from logging_policy.models import LoggingPolicy, PolicyChange
from tests.logging_policy.policy_form import policy_form_data
from tests.logging_policy.test_admin import change_url, staff


def page_of(user: Any) -> tuple[Client, LoggingPolicy]:
    """An admin with the policy page open: a logged-in client and the policy as the page shows it (the
    policy is created from the defaults if an earlier transactional test flushed the table)."""
    client = Client()
    client.force_login(user)
    return client, policy_active_get_or_create()


@pytest.mark.django_db
def test_a_save_from_a_stale_page_is_refused_saying_who_changed_what(django_capture_on_commit_callbacks) -> None:
    alice, bob = staff("alice", "change_sampling_policy"), staff("bob", "change_sampling_policy")
    (alice_client, alice_page), (bob_client, bob_page) = page_of(alice), page_of(bob)
    page = bob_client.get(change_url(bob_page)).content.decode()
    assert '<input type="hidden" name="edited_version" value="1"' in page

    with django_capture_on_commit_callbacks(execute=True):
        saved = alice_client.post(change_url(alice_page), policy_form_data(alice_page, default_sample_rate=0.1),
                                  follow=True)
    assert "was changed successfully" in saved.content.decode()

    refused = bob_client.post(change_url(bob_page), policy_form_data(bob_page, new_vehicle_rate=0.5), follow=True)
    text = html.unescape(refused.content.decode())
    assert refused.status_code == 200 and "Please correct the error" in text
    assert "The policy was changed since you opened it (you edited v1, it is now v2): v2 by alice at " in text
    assert "(default_sample_rate: 0.05 → 0.1). Nothing was saved: reload the page" in text

    policy = policy_active_get_or_create()  # alice's edit stands, bob's did not land
    assert (policy.version, policy.default_sample_rate, policy.new_vehicle_rate) == (2, 0.1, 0.25)
    assert list(PolicyChange.objects.values_list("changed_by_username", "version")) == [("alice", 2)]

    # Reloaded, bob's page is current and his save goes through.
    again = bob_client.post(change_url(policy), policy_form_data(policy, new_vehicle_rate=0.5), follow=True)
    assert "was changed successfully" in again.content.decode()
    policy.refresh_from_db()
    assert (policy.version, policy.default_sample_rate, policy.new_vehicle_rate) == (3, 0.1, 0.5)


@pytest.mark.django_db(transaction=True)
def test_of_two_saves_at_the_same_moment_from_one_version_exactly_one_lands() -> None:
    """The check locks the row inside the admin's transaction: the second save waits, then sees the first."""
    editors = [staff(f"editor-{i}", "change_sampling_policy") for i in range(2)]
    for round_ in range(3):
        pages = [page_of(user) for user in editors]
        start = threading.Barrier(2)
        answers: list[str] = ["", ""]

        def post(i: int, client: Client, page: LoggingPolicy, start: threading.Barrier, answers: list[str],
                 heavy: int) -> None:
            try:
                start.wait(timeout=10)
                response = client.post(change_url(page), policy_form_data(page, heavy_min_trips=heavy), follow=True)
                answers[i] = html.unescape(response.content.decode())
            finally:
                connection.close()  # this thread's own connection

        threads = [threading.Thread(target=post, args=(i, *pages[i], start, answers, 200 + 10 * round_ + i))
                   for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        landed = [i for i in range(2) if "was changed successfully" in answers[i]]
        refused = [i for i in range(2) if "The policy was changed since you opened it" in answers[i]]
        assert len(landed) == 1 and len(refused) == 1, round_
        policy = policy_active_get_or_create()
        assert policy.version == round_ + 2 and policy.heavy_min_trips == 200 + 10 * round_ + landed[0]
        assert f"v{round_ + 2} by editor-{landed[0]}" in answers[refused[0]]
    assert PolicyChange.objects.count() == 3
