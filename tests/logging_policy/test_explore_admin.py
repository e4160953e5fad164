"""The explorer's page and saved queries in the admin: forms, refusals, permissions (Django test client)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from logging_policy.event_loader import events_load
from logging_policy.models import SavedQuery
from tests.logging_policy.test_explore_query import EVENTS

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(tmp_path: Path, settings: Any) -> None:
    settings.WIDE_EVENTS_PATH = str(tmp_path / "events.jsonl")
    settings.EVENTS_STORE_DIR = tmp_path / "store"
    Path(settings.WIDE_EVENTS_PATH).write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in EVENTS))
    events_load(log=Path(settings.WIDE_EVENTS_PATH), store=settings.EVENTS_STORE_DIR, retention_days=30)


@pytest.fixture
def editor(client: Client) -> Client:
    user = User.objects.create_user("query-editor", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_loggingpolicy", "view_savedquery", "add_savedquery"]))
    client.force_login(user)
    return client


def test_the_form_runs_a_query_and_the_page_shows_its_groups(loaded: None, editor: Client) -> None:
    params = {"days": "1", "f0_field": "success", "f0_op": "=", "f0_value": "false", "group_by": "error.code",
              "aggregate": "MAX", "field": "duration_ms"}
    page = editor.get("/admin/logging_policy/explore/", params)
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count('class="group-row"') == 2
    assert "error.code = E100" in text and "error.code = E300" in text
    answer = editor.get("/admin/logging_policy/explore/", {**params, "format": "json"}).json()
    assert [(r["group"]["error.code"], r["value"]) for r in answer["rows"]] == [("E100", 50.0), ("E300", 51.0)]


def test_a_refused_query_says_why_on_the_page_and_as_json(loaded: None, editor: Client, wide_events: Any) -> None:
    params = {"f0_field": "error.code'; --", "f0_op": "exists", "aggregate": "COUNT"}
    wide_events.lines.clear()
    page = editor.get("/admin/logging_policy/explore/", params)
    assert page.status_code == 400 and "is not a field path" in html.unescape(page.content.decode())
    [event] = [e for e in wide_events.events if e.get("http", {}).get("status_code") == 400]
    assert event["error"]["code"] == "E007"  # the page's event says why, as the JSON answer's does
    body = editor.get("/admin/logging_policy/explore/", {**params, "format": "json"}).json()
    assert body["error"]["code"] == "E007" and "is not a field path" in body["error"]["message"]


def test_what_the_store_cannot_run_is_a_refusal_not_a_fault(loaded: None, editor: Client) -> None:
    # An end so early that the default range's start falls before year 1: OverflowError, before.
    body = editor.get("/admin/logging_policy/explore/", {"end": "0001-01-01", "aggregate": "COUNT", "format": "json"})
    assert body.status_code == 400 and body.json()["error"]["code"] == "E007", body.content[:300]


def test_raw_events_of_a_group_as_json(loaded: None, editor: Client) -> None:
    params = {"format": "json", "raw": "1", "group": '["E300"]', "aggregate": "COUNT", "group_by": "error.code"}
    events = editor.get("/admin/logging_policy/explore/", params).json()["events"]
    assert [e["request_id"] for e in events] == ["r51"]
    bad = editor.get("/admin/logging_policy/explore/", {**params, "group": "[1, 2]"}).json()
    assert bad["error"]["message"] == "group needs 1 value(s), one per group-by field."


def test_an_admin_saves_a_query_from_the_page_and_runs_it(loaded: None, editor: Client) -> None:
    page = editor.get("/admin/logging_policy/explore/", {"group_by": "deployment.environment", "aggregate": "COUNT"})
    save_url = html.unescape(page.content.decode().split('id="save-query"')[0].rsplit('href="', 1)[1].split('"')[0])
    form = editor.get(save_url).content.decode()
    assert "deployment.environment" in html.unescape(form)
    refused = editor.post("/admin/logging_policy/savedquery/add/", {
        "title": "Bad", "slug": "bad", "description": "", "definition": '{"group_by": ["a", "b", "c", "d"]}'})
    assert "group_by is a list of at most 3 field paths." in refused.content.decode()
    saved = editor.post("/admin/logging_policy/savedquery/add/", {
        "title": "By environment", "slug": "by-environment", "description": "",
        "definition": '{"group_by": ["deployment.environment"], "aggregate": "COUNT"}'})
    assert saved.status_code == 302 and SavedQuery.objects.filter(slug="by-environment").exists()
    rows = editor.get("/admin/logging_policy/explore/by-environment/", {"format": "json"}).json()["rows"]
    assert {r["group"]["deployment.environment"]: r["events"] for r in rows} == {"production": 42, "staging": 1}


def test_staff_without_a_view_permission_is_refused(client: Client) -> None:
    client.force_login(User.objects.create_user("plain-staff", is_staff=True))
    assert client.get("/admin/logging_policy/explore/").status_code == 403
    # Seeing saved queries' definitions is not seeing every event.
    definitions_only = User.objects.create_user("queries-only", is_staff=True)
    definitions_only.user_permissions.add(Permission.objects.get(codename="view_savedquery"))
    client.force_login(definitions_only)
    assert client.get("/admin/logging_policy/explore/", {"raw": "1", "format": "json"}).status_code == 403
    client.logout()
    assert client.get("/admin/logging_policy/explore/").status_code == 302  # to the login page


def test_the_seven_saved_queries_are_seeded() -> None:
    assert set(SavedQuery.objects.values_list("slug", flat=True)) >= {
        "errors-for-session", "heavy-trips-30d", "errors-in-deployment", "new-vehicles-trip-errors",
        "slow-trip-finalizations", "weather-timeouts", "error-rate-by-environment"}
