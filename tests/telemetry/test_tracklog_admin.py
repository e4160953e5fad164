"""The track-log upload form on the vehicle's admin page: through the test client, and in Chromium."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.models import Reading, Trip
from telemetry.tracklog_sim import LogStyle, tracklog_csv
from telemetry.vehicles import NewToken, vehicle_create
from tests.live import LiveWeb
from tests.logging_policy.test_admin_browser import browser, click_and_load  # noqa: F401 - the fixture

PASSWORD = "a long test password"


def _log() -> str:
    plan = DrivePlan(session="s", start=datetime(2026, 1, 3, 16, tzinfo=UTC), electric_miles=2, gas_miles=1)
    return tracklog_csv(drive_readings(plan), LogStyle(missing_every=4, restart_at=30))


def _staff(name: str = "importer") -> User:
    user = User.objects.create_user(name, password=PASSWORD, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_vehicle", "change_vehicle"]))
    return user


def _post(client: Client, vehicle_id: int, content: bytes, **extra: Any) -> Any:
    upload = SimpleUploadedFile("trackLog-2026-Jan-03.csv", content, content_type="text/csv")
    return client.post(f"/admin/telemetry/vehicle/{vehicle_id}/import-tracklog/", {"file": upload, **extra},
                       follow=True)


@pytest.mark.django_db
def test_staff_import_a_log_and_see_the_counts(client: Client, volt: NewToken) -> None:
    client.force_login(_staff())
    page = client.get(f"/admin/telemetry/vehicle/{volt.vehicle.pk}/change/").content.decode()
    assert 'id="tracklog-import"' in page and 'enctype="multipart/form-data"' in page
    response = _post(client, volt.vehicle.pk, _log().encode())
    rows = Reading.objects.filter(vehicle=volt.vehicle).count()
    assert rows > 20 and Trip.objects.get(vehicle=volt.vehicle).is_closed
    (message,) = [str(m) for m in response.context["messages"]]
    assert message.startswith(f"trackLog-2026-Jan-03.csv: {rows} rows, {rows} stored, 0 already stored")


@pytest.mark.django_db
def test_a_bad_file_and_an_oversized_one_are_refused_with_a_message(client: Client, volt: NewToken,
                                                                     settings: Any) -> None:
    client.force_login(_staff())
    bad = _post(client, volt.vehicle.pk, b"Date,Amount\n2026-01-03,12\n")
    assert [str(m) for m in bad.context["messages"]] == [
        "trackLog-2026-Jan-03.csv was not imported: line 1: not a Torque track-log header: no `Device Time` column. "
        "Nothing of it was stored."]
    settings.TRACKLOG_UPLOAD_MAX_MB = 0
    big = _post(client, volt.vehicle.pk, _log().encode())
    (message,) = [str(m) for m in big.context["messages"]]
    assert message.startswith("The file is 0.0 MB; the limit here is 0 MB (TRACKLOG_UPLOAD_MAX_MB).")
    assert Reading.objects.filter(vehicle=volt.vehicle).count() == 0


@pytest.mark.django_db
def test_only_staff_with_change_permission_may_import(volt: NewToken) -> None:
    anonymous = Client()
    response = anonymous.post(f"/admin/telemetry/vehicle/{volt.vehicle.pk}/import-tracklog/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    viewer = User.objects.create_user("viewer", password=PASSWORD, is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_vehicle"))
    client = Client()
    client.force_login(viewer)
    assert _post(client, volt.vehicle.pk, _log().encode()).status_code == 403
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(_staff("csrf"))
    assert _post(strict, volt.vehicle.pk, _log().encode()).status_code == 403  # no CSRF token
    assert Reading.objects.filter(vehicle=volt.vehicle).count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.live_web
@pytest.mark.browser
def test_an_owner_imports_a_track_log_in_a_browser(live_web: LiveWeb, browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    _staff("browser-importer")
    vehicle = vehicle_create(name="Browser Import Volt").vehicle
    log = tmp_path / "trackLog-2026-Jan-03_16-00-00.csv"
    log.write_text(_log(), encoding="utf-8")
    browser.get(f"{live_web.base_url}/admin/login/?next=/admin/telemetry/vehicle/{vehicle.pk}/change/")
    browser.find_element(By.NAME, "username").send_keys("browser-importer")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    click_and_load(browser, browser.find_element(By.CSS_SELECTOR, "input[type=submit]"))
    form = browser.find_element(By.ID, "tracklog-import")
    form.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(str(log))
    click_and_load(browser, form.find_element(By.NAME, "_import_tracklog"))

    message = browser.find_element(By.CSS_SELECTOR, "ul.messagelist li.success").text
    rows = Reading.objects.filter(vehicle=vehicle).count()
    # The admin's stylesheet capitalizes a message's first letter.
    assert rows > 20 and message.lower().startswith(f"{log.name}: {rows} rows, {rows} stored, 0 already stored".lower())
    assert browser.current_url.endswith(f"/admin/telemetry/vehicle/{vehicle.pk}/change/")
    assert Trip.objects.get(vehicle=vehicle).is_closed
    event = live_web.wait_for_event(lambda e: e["operation"] == "tracklog_import"
                                    and e.get("vehicle", {}).get("id") == vehicle.pk)
    assert event["kind"] == "task" and event["tracklog"]["stored"] == rows
    assert event["caller"]["operation"] != "" and event["tracklog"]["file"] == log.name
