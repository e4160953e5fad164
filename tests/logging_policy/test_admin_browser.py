"""The policy page in a real browser: headless Chromium (Debian's) on a real gunicorn server.

An editor logs in at 1400 px, sees every checkbox choice on one line, sets the upload rate to
150 % (refused, with its message), then 100 % with budgets (saved), and every following upload's
event is kept, read from the server's own event log; the overview shows the per-key columns.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.contrib.auth.models import Permission, User

from logging_policy.changes import policy_active_get_or_create
from logging_policy.models import OperationRule
from logging_policy.policy import CHECK_INTERVAL_S
from logging_policy.synthetic import trace_id_drawing
from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.vehicles import vehicle_create
from tests.live import LiveWeb

if TYPE_CHECKING:  # selenium loads only in the tests that drive the browser
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
# Flags for a sandbox-less CI machine with no network beyond localhost: nothing phones home.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1280,1600")


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WebDriver]:
    for binary in (CHROMIUM, CHROMEDRIVER):
        if not shutil.which(binary):
            pytest.fail(f"{binary} is missing: apt-get install -y chromium chromium-driver (.ci/run does)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.selenium_manager import SeleniumManager

    def no_downloads(*args: object, **kwargs: object) -> None:
        raise AssertionError("Selenium Manager ran: it must not look for or download a driver")

    monkeypatch.setattr(SeleniumManager, "binary_paths", no_downloads)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()


# Each checkbox label of the policy form: [its text, on how many lines the browser laid the text out].
LABEL_LINES = """
    return [...document.querySelectorAll('.policy-choices label')].map(label => {
        const text = [...label.childNodes].find(node => node.nodeType === Node.TEXT_NODE && node.textContent.trim());
        const range = document.createRange();
        range.selectNodeContents(text);
        const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
        return [text.textContent.trim(), tops.size];
    });"""


def rate_input(driver: WebDriver, operation: str) -> WebElement:
    from selenium.webdriver.common.by import By

    for row in driver.find_elements(By.CSS_SELECTOR, "tr.form-row"):
        names = row.find_elements(By.CSS_SELECTOR, "input[name$='-operation']")
        if names and names[0].get_attribute("value") == operation:
            return row.find_element(By.CSS_SELECTOR, "input[name$='-sample_rate']")
    raise AssertionError(f"no rule row for {operation}")


def click_and_load(driver: WebDriver, element: WebElement) -> None:
    """Click something that loads a page, and wait until the new page has replaced the old one.

    Without the wait, the next lookup can find an element of the page being left, which goes stale.
    """
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    wait = WebDriverWait(driver, 20)
    wait.until(expected_conditions.staleness_of(old))
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")


def type_into(field: WebElement, value: str) -> None:
    field.clear()
    field.send_keys(value)


def set_rate_and_save(driver: WebDriver, value: str, *, budgets: tuple[str, str] | None = None) -> str:
    """Set the upload rate (and the default and upload budgets) and save."""
    from selenium.webdriver.common.by import By

    type_into(rate_input(driver, "telemetry_upload"), value)
    if budgets:
        type_into(driver.find_element(By.ID, "id_default_budget_per_minute"), budgets[0])
        row = rate_input(driver, "telemetry_upload").find_element(By.XPATH, "./ancestor::tr")
        type_into(row.find_element(By.CSS_SELECTOR, "input[name$='-budget_per_minute']"), budgets[1])
    click_and_load(driver, driver.find_element(By.NAME, "_continue"))
    return driver.find_element(By.TAG_NAME, "main").text  # messages and form


@pytest.mark.django_db(transaction=True)
@pytest.mark.live_web
@pytest.mark.browser
def test_an_editor_changes_the_upload_rate_in_a_browser_and_uploads_follow_it(
        live_web: LiveWeb, browser: WebDriver, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    policy = policy_active_get_or_create()  # transactional tests before this one flush the seed away
    OperationRule.objects.filter(policy=policy, operation="telemetry_upload").update(sample_rate=0.05)
    user = User.objects.create_user("browser-editor", password="a long test password", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_sampling_policy"))
    volt = vehicle_create(name="Browser Volt")
    readings = drive_readings(DrivePlan(session="browser-1", start=datetime(2026, 3, 4, tzinfo=UTC), gas_miles=0.0))
    # Draws at or above 25 %: dropped at 5 % (25 % for a new vehicle), kept only once the rate is 100 %.
    trace_ids = (trace_id_drawing(at_least=0.25, skip=i) for i in range(10_000))

    def send() -> str:
        return live_web.upload(volt.token, next(readings), trace_id=next(trace_ids))

    send()  # opens the trip: kept as a critical event whatever the rate
    time.sleep(CHECK_INTERVAL_S + 0.1)  # both server processes hold the 5 % set above
    before = [send() for _ in range(5)]

    browser.get(f"{live_web.base_url}/admin/login/")
    browser.find_element(By.NAME, "username").send_keys("browser-editor")
    browser.find_element(By.NAME, "password").send_keys("a long test password")
    click_and_load(browser, browser.find_element(By.CSS_SELECTOR, "input[type=submit]"))
    browser.set_window_size(1400, 1600)
    browser.get(f"{live_web.base_url}/admin/logging_policy/loggingpolicy/")
    assert "Change sampling policy" in browser.title
    # Each checkbox choice's text lies on one line (the admin's label width split the long ones mid-word).
    lines = browser.execute_script(LABEL_LINES)
    assert ["charging_session_started", 1] in lines and ["http.status_code", 1] in lines
    assert {n for _, n in lines} == {1}, [label for label, n in lines if n != 1]

    refused = set_rate_and_save(browser, "1.5")
    assert "Please correct the error below." in refused
    assert "A rate is a fraction between 0 and 1 (0.05 keeps 5 % of events); 1.5 is outside." in refused
    policy.refresh_from_db()
    assert policy.version == 1 and policy.rules.get(operation="telemetry_upload").sample_rate == 0.05

    saved = set_rate_and_save(browser, "1", budgets=("250", "300"))
    assert "was changed successfully" in saved and "is in force here now" in saved
    assert rate_input(browser, "telemetry_upload").get_attribute("value") == "1.0"
    policy.refresh_from_db()
    assert policy.default_budget_per_minute == 250
    assert policy.rules.get(operation="telemetry_upload").budget_per_minute == 300
    assert policy.changes.get().diff["rules.telemetry_upload.budget_per_minute"] == [None, 300]
    browser.save_screenshot(str(tmp_path / "policy-saved.png"))
    print(f"screenshot: {tmp_path / 'policy-saved.png'}")

    time.sleep(CHECK_INTERVAL_S + 0.1)  # the other server process re-checks Redis within this
    after = [send() for _ in range(10)]
    events = live_web.events_by_request_id()
    assert not set(before) & events.keys()
    policy.refresh_from_db()
    assert [events[r]["sampling"]["reason"] for r in after if r in events] == ["operation_rate"] * 10
    assert {events[r]["sampling"]["rate"] for r in after} == {1.0}
    assert {events[r]["sampling"]["policy_version"] for r in after} == {policy.version} == {2}
    assert {events[r]["sampling"]["key"] for r in after} == {"telemetry_upload|200|"}

    click_and_load(browser, browser.find_element(By.ID, "sampling-overview-link"))
    header = browser.find_element(By.CSS_SELECTOR, "#sampling-overview thead").text
    assert header.split("\n") == ["OPERATION REASON LAST HOUR LAST DAY PROJECTED PER DAY",  # CSS upper-cases
                                   "SEEN KEPT WOULD KEEP SEEN KEPT WOULD KEEP KEPT WOULD KEEP"]
    keys = browser.find_element(By.CSS_SELECTOR, ".sampling-keys thead").text
    assert keys == "OPERATION KEY SEEN KEPT ESTIMATE CURRENT RATE RSE KEPT PER DAY"
    # The server process that drew the page sent its own counts first: some of the uploads are in.
    row = browser.find_element(By.CSS_SELECTOR, "tr[data-key='telemetry_upload|200|']")
    cells = [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
    operation, key, seen, kept, estimate, rate, rse, per_day = cells
    assert (operation, key) == ("telemetry_upload", "200 · –")
    assert int(seen) >= int(kept) >= 1 and int(estimate) >= int(kept) and per_day == str(int(kept) * 24)
    assert 0 < float(rate) <= 1 and rse.endswith(" %")
    browser.save_screenshot(str(tmp_path / "overview.png"))
