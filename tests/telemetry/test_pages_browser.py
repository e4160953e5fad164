"""The pages in a real browser (Debian's headless Chromium on a real gunicorn server, no internet).

A finalized trip shows its summary, the chart with the switch to gas marked and the route drawn
(the map's tiles cannot load here: the track is drawn on a blank background all the same); the
home page shows the vehicle; at 1400 px the trip list shows kWh/mi and MPG without scrolling.
With SCREENSHOTS_DIR set (`make screenshots`: docs/screenshots) the pages are saved there.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.contrib.auth.models import User

from logging_policy.synthetic import trace_id_drawing
from telemetry.drive_sim import ChargePlan, DrivePlan, charge_readings, drive_readings
from telemetry.models import Trip
from telemetry.stats import vehicle_stats_refresh
from telemetry.trips import trip_finalize
from telemetry.vehicles import vehicle_create
from tests.live import LiveWeb
from tests.logging_policy.test_admin_browser import browser, click_and_load  # noqa: F401 - the fixture

if TYPE_CHECKING:  # selenium loads only in the tests that drive the browser
    from selenium.webdriver.remote.webdriver import WebDriver

START = datetime(2026, 3, 4, 7, 30, tzinfo=UTC)


def screenshot(driver: WebDriver, tmp_path: Path, name: str) -> None:
    folder = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(folder / name))


def drive_history(web: LiveWeb) -> tuple[int, int]:
    """A charge, then three days of drives (the last with gas mode), all finalized: (vehicle id, last trip id)."""
    volt = vehicle_create(name="Browser Volt")
    trace = trace_id_drawing(at_least=0.0)
    charge = ChargePlan(session="b-charge", start=START - timedelta(hours=10), start_soc=20, end_soc=88,
                        step_seconds=60)
    for params in charge_readings(charge):
        web.upload(volt.token, params, trace_id=trace)
    odometer = charge.odometer_miles
    for day, (electric, gas, celsius) in enumerate(((12.0, 0.0, -5.0), (20.0, 0.0, 25.0), (30.0, 14.0, 12.0))):
        plan = DrivePlan(session=f"b-{day}", start=START + timedelta(days=day), electric_miles=electric,
                         gas_miles=gas, step_seconds=30, start_odometer_miles=odometer, ambient_c=celsius,
                         kwh_per_mile=0.26 + 0.002 * abs(celsius - 20), battery_capacity_kwh=16.4 - 0.1 * day)
        for params in drive_readings(plan):
            web.upload(volt.token, params, trace_id=trace)
        odometer += electric + gas
    for trip in Trip.objects.filter(vehicle=volt.vehicle).order_by("started_at"):
        trip_finalize(trip_id=trip.pk)
    vehicle_stats_refresh(vehicle_id=volt.vehicle.pk)
    return volt.vehicle.pk, Trip.objects.get(session="b-2").pk


def log_in(driver: WebDriver, base_url: str) -> None:
    from selenium.webdriver.common.by import By

    User.objects.create_user("pages-viewer", password="a long test password", is_staff=True, is_superuser=True)
    driver.get(f"{base_url}/")
    assert "/admin/login/" in driver.current_url  # anonymous: to the login
    driver.find_element(By.NAME, "username").send_keys("pages-viewer")
    driver.find_element(By.NAME, "password").send_keys("a long test password")
    click_and_load(driver, driver.find_element(By.CSS_SELECTOR, "input[type=submit]"))


@pytest.mark.django_db(transaction=True)
@pytest.mark.live_web
@pytest.mark.browser
def test_trip_home_stats_and_list_pages_in_a_browser(live_web: LiveWeb, browser: WebDriver, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    vehicle_id, trip_id = drive_history(live_web)
    trip = Trip.objects.get(pk=trip_id)
    assert trip.is_closed and trip.gas_mode_entered_at is not None and trip.kwh_per_mile is not None
    browser.set_window_size(1400, 1100)
    log_in(browser, live_web.base_url)

    # Home: back where the login started, the vehicle with its last trips and its last charge.
    assert browser.current_url == f"{live_web.base_url}/"
    home = browser.find_element(By.ID, f"vehicle-{vehicle_id}").text
    assert "Browser Volt" in home and "44.0 mi" in home and "kWh/mi" in home and "Last charge" in home
    screenshot(browser, tmp_path, "home.png")

    # The trip page: summary first, the chart with the gas switch drawn, the route drawn.
    browser.get(f"{live_web.base_url}/admin/telemetry/trip/{trip_id}/change/")
    summary = browser.find_element(By.ID, "trip-summary").text
    for shown in (f"{trip.distance_miles:.1f} mi", f"{trip.kwh_per_mile:.3f} kWh/mi", f"{trip.gas_mpg:.1f} mpg",
                  f"{trip.soc_at_gas_entry:.1f} % at {trip.gas_mode_entered_at:%H:%M}"):
        assert shown in summary, (shown, summary)
    wait = WebDriverWait(browser, 20)
    chart = browser.find_element(By.ID, "trip-chart")
    wait.until(lambda d: chart.get_attribute("data-marks-drawn"))
    mark_x = int(chart.get_attribute("data-marks-drawn") or "-1")
    assert 0 < mark_x < chart.size["width"]
    assert len(chart.find_elements(By.CSS_SELECTOR, "canvas")) == 1
    legend = chart.find_element(By.CSS_SELECTOR, ".u-legend").text
    assert "SOC" in legend and "Speed" in legend
    power_legend = browser.find_element(By.CSS_SELECTOR, "#trip-chart-power .u-legend").text
    assert "HV power" in power_legend and "Engine" in power_legend
    route = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#trip-map path.leaflet-interactive"))
    # The polyline (the start and end markers are arcs), across the map, drawn though no tile loaded.
    [track] = [path for path in route if "L" in (path.get_attribute("d") or "")]
    assert track.size["width"] > 100 and track.size["height"] > 100
    assert int(browser.find_element(By.ID, "trip-map").get_attribute("data-points") or "0") > 50
    internals = browser.find_element(By.ID, "trip-internals")
    assert internals.get_attribute("open") is None and not internals.find_element(By.TAG_NAME, "table").is_displayed()
    screenshot(browser, tmp_path, "trip.png")

    # The vehicle's statistics: the capacity trend and kWh/mi against temperature are drawn.
    browser.get(f"{live_web.base_url}/admin/telemetry/vehiclestats/{vehicle_id}/change/")
    for chart_id in ("capacity-chart", "efficiency-chart"):
        assert browser.find_elements(By.CSS_SELECTOR, f"#{chart_id} canvas"), chart_id
    screenshot(browser, tmp_path, "vehicle-stats.png")

    # The trip list at 1400 px: the efficiency columns in view, no horizontal scrolling.
    browser.get(f"{live_web.base_url}/admin/telemetry/trip/")
    screenshot(browser, tmp_path, "trips.png")
    width = browser.execute_script("return document.documentElement.clientWidth")
    assert width >= 1380
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    headers = {h.text: h for h in browser.find_elements(By.CSS_SELECTOR, "#result_list thead th")}
    for name in ("KWH/MI", "MPG"):  # CSS upper-cases the headers
        assert name in headers, list(headers)
        assert headers[name].rect["x"] + headers[name].rect["width"] <= width, name
    cells = browser.find_elements(By.CSS_SELECTOR, "#result_list td.field-figure_kwh_per_mile")
    assert f"{trip.kwh_per_mile:.3f}" in [c.text for c in cells]
    # The list's own scroller (the admin wraps the table in one) has nothing to scroll either.
    scroller = browser.execute_script(
        "const r = document.querySelector('#changelist .results'); return [r.scrollWidth, r.clientWidth]")
    assert scroller[0] <= scroller[1], scroller
