"""Control characters (NUL first) in an upload's fields and keys: the client's fault, never a 5xx.

PostgreSQL stores no NUL in text or jsonb; before the parser looked, a NUL in `session` answered
500 E500 (critical, alert) and one in a `k` key 503 E202 with Retry-After (a phone retries that forever).
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from telemetry.models import PidDescription, Reading
from telemetry.torque import parse_upload

pytestmark = pytest.mark.django_db

BASE = {"session": "1772473500000", "time": "1772473500000", "kd": "36"}


def send(client, token: str, params: dict[str, str], method: str):
    """The params as Torque sends them: a query string or a urlencoded form (NUL travels as %00)."""
    url = f"/api/torque/upload/{token}"
    if method == "get":
        return client.get(f"{url}?{urlencode(params)}")
    return client.post(url, urlencode(params), content_type="application/x-www-form-urlencoded")


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("session", ["17724\x00", "a\nb", "x\x7fy", "a\x85b"])
def test_control_character_in_session_is_400_e307_not_retriable(volt, client, wide_events, method, session) -> None:
    response = send(client, volt.token, {**BASE, "session": session}, method)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "E307"
    assert "Retry-After" not in response
    (event,) = wide_events.events
    assert event["error"]["code"] == "E307"
    assert event["error"]["alert"] is False and event["error"]["retriable"] is False
    assert Reading.objects.count() == 0


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(("extra", "listed"), [
    ({"id": "dev\x00ice"}, "id"),
    ({"v": "\x00\x01"}, "v"),
    ({"k\x00ab": "1"}, "k\\x00ab"),
    ({"kab": "1\x00"}, "kab"),
    ({"kff12\x1b": "2"}, "kff12\\x1b"),
])
def test_control_character_elsewhere_drops_that_value_and_stores_the_reading(
        volt, client, wide_events, method, extra, listed) -> None:
    response = send(client, volt.token, {**BASE, **extra}, method)
    assert response.content == b"OK!"
    reading = Reading.objects.get()
    assert reading.speed_mph == pytest.approx(36 * 0.621371192)
    assert reading.rejected == {listed: "control_character"}
    assert reading.raw == {}
    volt.vehicle.refresh_from_db()
    assert volt.vehicle.torque_device_id == ""
    (event,) = wide_events.events
    assert event["telemetry"]["rejected_keys"] == [listed]
    assert "error" not in event


@pytest.mark.parametrize("method", ["get", "post"])
def test_control_character_in_metadata_drops_that_name_only(volt, client, wide_events, method) -> None:
    params = {"session": "s\x00", "userFullNamekd": "Sp\x00eed", "userFullNamek\x00c": "Engine RPM",
              "userShortNamekd": "Speed", "userUnitkd": "km/h"}
    response = send(client, volt.token, params, method)
    assert response.content == b"OK!"
    assert list(PidDescription.objects.values_list("pid", "full_name", "short_name", "user_unit")) == [
        ("kd", "", "Speed", "km/h")]
    (event,) = wide_events.events
    assert event["telemetry"]["rejected_keys"] == ["session", "userfullnamek\\x00c", "userfullnamekd"]


def test_parser_leaves_tabs_around_a_number_to_the_number() -> None:
    # Whitespace around a value is not an identifier's control character: the number survives.
    upload = parse_upload({**BASE, "kd": "\t36\n"})
    assert upload.values == {"speed_mph": pytest.approx(36 * 0.621371192)} and upload.rejected == {}


@pytest.mark.parametrize("charset", ["latin-1", "iso-8859-1", "utf-16"])
def test_a_form_in_another_charset_is_401_for_an_unknown_token_and_400_e308_for_a_known_one(
        volt, client, charset) -> None:
    # Django decodes urlencoded forms as UTF-8 only; its refusal answered 400 E006 (the Host-header
    # code) before the token was looked at.
    content_type = f"application/x-www-form-urlencoded; charset={charset}"
    body = urlencode(BASE)
    unknown = client.post("/api/torque/upload/not-a-real-token-at-all", body, content_type=content_type)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (401, "E400")
    known = client.post(f"/api/torque/upload/{volt.token}", body, content_type=content_type)
    assert (known.status_code, known.json()["error"]["code"]) == (400, "E308")
    assert Reading.objects.count() == 0


def test_a_nul_that_reaches_a_query_elsewhere_is_400_e308_not_500(admin_client, wide_events) -> None:
    """The backstop for text the parser never sees: an admin filter took the NUL to psycopg2 (500 E500)."""
    response = admin_client.get("/admin/telemetry/chargingsession/?level__exact=L2%00")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "E308")
    [event] = wide_events.events
    assert (event["error"]["code"], event["error"]["alert"], event["http"]["status_code"]) == ("E308", False, 400)
