"""Personal data and secrets planted in every request never come back in an error body or an event."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User
from django.db import connection

from telemetry.drive_sim import DrivePlan, drive_readings

EMAIL = "canary.person+volt@private-mail.example"
NAME = "Zebulon Canarysson"  # a full name in an unknown upload field and in the admin user's profile
BEARER = "CanaryBearer-0123456789abcdef"
PASSWORD = "Canary-Passw0rd-77!"
CANARIES = (EMAIL, EMAIL.split("@")[0], NAME, BEARER, PASSWORD)
HEADERS = {"Authorization": f"Bearer {BEARER}", "Cookie": f"sessionid={BEARER}",
           "User-Agent": f"Torque Pro ({EMAIL})", "X-Forwarded-For": "203.0.113.77"}


def reading(**extra: str) -> dict[str, str]:
    params = next(drive_readings(DrivePlan(session="can-1", start=datetime(2026, 10, 10, tzinfo=UTC))))
    return {**params, "eml": EMAIL, "profileName": NAME, **extra}


def assert_clean(responses: list, events: list[str]) -> None:
    for response in responses:
        body = response.content.decode(errors="replace")
        for canary in CANARIES:
            assert canary not in body, (response.status_code, canary, body[:300])
    for line in events:
        for canary in CANARIES:
            assert canary not in line, (canary, line[:500])


@pytest.mark.django_db
def test_no_canary_in_any_error_body_or_event(client, volt, wide_events, admin_user) -> None:
    url = f"/api/torque/upload/{volt.token}"
    without = {k: v for k, v in reading().items() if k not in ("time", "session")}
    responses = {
        "ok": client.post(url, reading(), headers=HEADERS),
        "E300": client.post(url, {**without, "session": "1"}, headers=HEADERS),
        "E301": client.post(url, reading(time=EMAIL), headers=HEADERS),
        "E302": client.post(url, {**without, "time": reading()["time"]}, headers=HEADERS),
        "E303": client.post(url, {"time": reading()["time"], "session": "2", "eml": EMAIL}, headers=HEADERS),
        "E400": client.post(f"/api/torque/upload/{EMAIL}", reading(), headers=HEADERS),
        "E003": client.put(url, reading(), headers=HEADERS),
        "E002": client.post(url, {**reading(), **{f"k{i:x}": EMAIL for i in range(1000)}}, headers=HEADERS),
        "E004": client.get(f"/no/such/page/{EMAIL}", headers=HEADERS),
        "E401": client.get(f"/api/vehicles/{volt.vehicle.pk}/trips/?eml={EMAIL}",
                           headers={k: v for k, v in HEADERS.items() if k != "Authorization"}),
        "E401 bearer": client.get(f"/api/vehicles/{volt.vehicle.pk}/stats/?eml={EMAIL}", headers=HEADERS),
        "E006": client.get(f"/healthz?eml={EMAIL}", headers={**HEADERS, "Host": "evil.example"}),
        "health": client.get(f"/healthz?eml={EMAIL}", headers=HEADERS),
    }
    User.objects.create_user("canary", email=EMAIL, first_name="Zebulon", last_name="Canarysson",
                             password=PASSWORD)
    responses["login failed"] = client.post("/admin/login/", {"username": "canary", "password": PASSWORD + "x"},
                                            headers=HEADERS)
    responses["login"] = client.post("/admin/login/", {"username": "canary", "password": PASSWORD},
                                     headers=HEADERS)
    statuses = {name: r.status_code for name, r in responses.items()}
    assert statuses == {"ok": 200, "E300": 400, "E301": 400, "E302": 400, "E303": 400, "E400": 401, "E003": 405,
                        "E002": 413, "E004": 404, "E401": 401, "E401 bearer": 401, "E006": 400, "health": 200,
                        "login failed": 200, "login": 200}  # the admin refuses non-staff on its login form
    for name, response in responses.items():
        if name.startswith("E"):
            assert response.json()["error"]["code"] == name.split()[0], name
    assert len(wide_events.lines) == len(responses)
    assert_clean(list(responses.values()), wide_events.lines)


@pytest.mark.django_db(transaction=True)
def test_no_canary_in_the_database_down_answer_or_its_event(client, volt, wide_events) -> None:
    saved = connection.settings_dict.copy()
    connection.close()
    connection.settings_dict["PORT"] = 1  # nothing listens there: a real connection failure
    try:
        response = client.post(f"/api/torque/upload/{volt.token}", reading(), headers=HEADERS)
    finally:
        connection.close()
        connection.settings_dict.update(saved)
    assert response.status_code == 503 and response.json()["error"]["code"] == "E200"
    assert len(wide_events.lines) == 1
    assert_clean([response], wide_events.lines)
    assert volt.token not in wide_events.lines[0] and volt.token not in response.content.decode()
