"""The event explorer in a real browser (Debian's headless Chromium) on a real gunicorn server.

A viewer opens the explorer, runs the saved query "errors for a session", sees the uPlot chart and the
table, and opens one raw event. Half of the events are loaded into the store, the rest are read from
the log's tail: both count.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.contrib.auth.models import Permission, User

from logging_policy.event_loader import events_load
from logging_policy.models import SavedQuery
from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.vehicles import vehicle_create
from tests.live import LiveWeb, live_env, live_web_running
from tests.logging_policy.test_admin_browser import browser, click_and_load  # noqa: F401 - fixture

SEED = importlib.import_module("logging_policy.migrations.0007_seed_saved_queries")


@pytest.fixture
def explorer_web(tmp_path: Path, django_db_blocker: Any) -> Iterator[tuple[LiveWeb, Path]]:
    store = tmp_path / "store"
    with live_web_running(tmp_path, live_env(tmp_path, EVENTS_STORE_DIR=str(store))) as web:
        yield web, store


def refused_upload(web: LiveWeb, token: str, session: str) -> None:
    import httpx

    response = httpx.post(f"{web.base_url}/api/torque/upload/{token}", data={"session": session, "id": "x"})
    assert response.json()["error"]["code"] == "E300"


@pytest.mark.django_db(transaction=True)
@pytest.mark.live_web
@pytest.mark.browser
def test_a_viewer_runs_a_saved_query_sees_chart_and_table_and_opens_a_raw_event(
        explorer_web: tuple[LiveWeb, Path], browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    web, store = explorer_web
    for query in SEED.QUERIES:  # transactional tests before this one flush the seeded rows
        SavedQuery.objects.update_or_create(slug=query["slug"], defaults=query)
    user = User.objects.create_user("explorer-viewer", password="a long test password", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_loggingpolicy", "view_savedquery"]))
    volt = vehicle_create(name="Explorer Volt")
    readings = drive_readings(DrivePlan(session="browser-s", start=datetime.now(UTC) - timedelta(hours=1)))
    web.upload(volt.token, next(readings), trace_id="1" * 32)
    refused_upload(web, volt.token, "browser-s")
    assert events_load(log=web.events_path, store=store, retention_days=30).loaded >= 2
    refused_upload(web, volt.token, "browser-s")  # in the log's tail only
    refused_upload(web, volt.token, "other-session")

    browser.get(f"{web.base_url}/admin/login/?next=/admin/logging_policy/explore/")
    browser.find_element(By.NAME, "username").send_keys("explorer-viewer")
    browser.find_element(By.NAME, "password").send_keys("a long test password")
    click_and_load(browser, browser.find_element(By.CSS_SELECTOR, "input[type=submit]"))
    assert "Event explorer" in browser.title
    click_and_load(browser, browser.find_element(By.CSS_SELECTOR, "a.saved-query[data-slug='errors-for-session']"))
    assert "This query needs the parameter 'session'" in browser.find_element(By.ID, "query-refused").text
    browser.find_element(By.NAME, "session").send_keys("browser-s")
    click_and_load(browser, browser.find_element(By.CSS_SELECTOR, "#parameters-form input[type=submit]"))

    legend = browser.find_element(By.CSS_SELECTOR, "#explore-chart .u-legend").text
    assert "error.code=E300, operation=telemetry_upload" in legend
    assert browser.find_elements(By.CSS_SELECTOR, "#explore-chart canvas")
    [row] = browser.find_elements(By.CSS_SELECTOR, "#explore-table tr.group-row")
    cells = [td.text for td in row.find_elements(By.TAG_NAME, "td")]
    assert cells[:4] == ["error.code = E300, operation = telemetry_upload", "2.0", "± 0.0 %", "2"]
    summary = browser.find_element(By.ID, "explore-summary").text
    not_loaded = re.search(r"\((\d+) not yet loaded", summary)
    assert not_loaded, summary
    tail = int(not_loaded.group(1))
    assert tail >= 2, summary  # the second refused upload, the other session's (and the explorer's own events)

    row.find_element(By.CSS_SELECTOR, "a.raw-link").click()
    details = browser.find_elements(By.CSS_SELECTOR, "#raw-events details.raw-event")
    assert len(details) == 2
    details[0].find_element(By.TAG_NAME, "summary").click()
    shown = orjson.loads(details[0].find_element(By.TAG_NAME, "pre").text)
    assert shown["error"]["code"] == "E300" and shown["telemetry"]["session"] == "browser-s"
    newest = max(e["timestamp"] for e in web.events() if e.get("telemetry", {}).get("session") == "browser-s"
                 and not e["success"])
    assert shown["timestamp"] == newest  # newest first
    browser.save_screenshot(str(tmp_path / "explorer.png"))
    print(f"screenshot: {tmp_path / 'explorer.png'}")
