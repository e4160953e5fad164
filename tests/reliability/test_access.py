"""Who can read what: every API endpoint and every admin page, tried without the right credentials."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, reverse

from telemetry import urls as telemetry_urls
from telemetry.auth import vehicle_for_token
from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.models import Trip
from telemetry.tokens import token_hash, token_matches
from telemetry.trips import trip_finalize
from tests.factories import staff_make

pytestmark = pytest.mark.django_db


def api_patterns() -> list[URLPattern]:
    """Every read API route (all but the upload), so a new endpoint is covered without editing this test."""
    found = [p for p in telemetry_urls.urlpatterns if p.name and p.name != "torque_upload"]
    assert {p.name for p in found} >= {"vehicle_trips", "vehicle_stats", "trip_detail", "vehicle_charging",
                                       "vehicle_refuels"}
    return found


@pytest.fixture
def owned(volt, upload) -> dict[str, int]:
    """A vehicle with one finished trip: ids to put in every API URL."""
    for params in list(drive_readings(DrivePlan(session="acc-1", start=datetime(2026, 2, 2, tzinfo=UTC))))[:5]:
        assert upload(volt.token, params).content == b"OK!"
    trip = Trip.objects.get()
    trip_finalize(trip_id=trip.pk)
    return {"vehicle_id": volt.vehicle.pk, "trip_id": trip.pk}


def url_for(pattern: URLPattern, ids: dict[str, int]) -> str:
    return reverse(pattern.name, kwargs={k: ids[k] for k in pattern.pattern.converters})


def test_every_api_endpoint_refuses_anyone_but_the_owner_and_staff(client, volt, new_vehicle, owned) -> None:
    stranger = new_vehicle(name="Someone else's Volt")
    User.objects.create_user("plain", password="pw-plain-123")  # a login, but not staff
    for pattern in api_patterns():
        url = url_for(pattern, owned)
        anonymous = client.get(url)
        assert (anonymous.status_code, anonymous.json()["error"]["code"]) == (401, "E401"), url
        other = client.get(url, headers={"Authorization": f"Bearer {stranger.token}"})
        assert (other.status_code, other.json()["error"]["code"]) == (403, "E402"), url
        bogus = client.get(url, headers={"Authorization": "Bearer not-a-token"})
        assert bogus.status_code == 401, url
        client.login(username="plain", password="pw-plain-123")
        assert client.get(url).status_code == 401, url
        client.logout()
        for response in (anonymous, other, bogus):
            assert list(response.json()) == ["error"], url  # the error, and no data beside it
        owner = client.get(url, headers={"Authorization": f"Bearer {volt.token}"})
        assert owner.status_code == 200, url
    # A missing trip looks like someone else's to a vehicle token (403 both), so ids cannot be probed;
    # anonymous gets 401 as everywhere, and only staff learn it does not exist.
    missing = reverse("trip_detail", kwargs={"trip_id": owned["trip_id"] + 1000})
    assert client.get(missing).status_code == 401
    assert client.get(missing, headers={"Authorization": f"Bearer {volt.token}"}).status_code == 403
    staff_make("staffer")
    client.login(username="staffer", password="pw-staff-123")
    assert client.get(missing).status_code == 404


def answer(response: Any) -> tuple[int, list[str], str | None]:
    """Status, the body's keys and its error code: an error answer is `(status, ["error"], code)`."""
    body = response.json()
    return response.status_code, list(body), (body.get("error") or {}).get("code")


def test_a_missing_vehicle_is_404_to_staff_on_every_route_and_looks_like_someone_elses_to_a_token(
        client, volt, owned) -> None:
    missing = {**owned, "vehicle_id": owned["vehicle_id"] + 1000, "trip_id": owned["trip_id"] + 1000}
    routes = [url_for(pattern, missing) for pattern in api_patterns()]
    assert len([url for url in routes if "/vehicles/" in url]) == 4
    User.objects.create_user("plain", password="pw-plain-123")
    staff_make("staffer")
    for url in routes:
        assert answer(client.get(url)) == (401, ["error"], "E401"), url
        token = client.get(url, headers={"Authorization": f"Bearer {volt.token}"})
        assert answer(token) == (403, ["error"], "E402"), url
        client.login(username="plain", password="pw-plain-123")
        assert answer(client.get(url)) == (401, ["error"], "E401"), url
        client.login(username="staffer", password="pw-staff-123")
        assert answer(client.get(url)) == (404, ["error"], "E004"), url
        client.logout()


def test_staff_read_what_their_admin_view_permissions_show(client, owned) -> None:
    """A staff user with no view permission on vehicles read every vehicle through the JSON API."""
    needs = {"vehicle_trips": "trip", "trip_detail": "trip", "vehicle_stats": "vehiclestats",
             "vehicle_charging": "chargingsession", "vehicle_refuels": "refuel"}
    assert set(needs) == {pattern.name for pattern in api_patterns()}
    bare = staff_make("bare", views=())
    only_vehicles = staff_make("only-vehicles", views=("vehicle",))
    for pattern in api_patterns():
        url = url_for(pattern, owned)
        client.force_login(bare)
        refused = client.get(url)
        assert answer(refused) == (403, ["error"], "E402"), url
        assert "telemetry.view_vehicle" in refused.json()["error"]["message"], url
        client.force_login(only_vehicles)
        refused = client.get(url)
        assert answer(refused) == (403, ["error"], "E402"), url
        assert refused.json()["error"]["message"].endswith(f"telemetry.view_{needs[str(pattern.name)]}."), url
        client.force_login(staff_make(f"can-{pattern.name}", views=("vehicle", needs[str(pattern.name)])))
        assert client.get(url).status_code == 200, url
    # Without the permission a missing trip is a 403 too: only those who may read trips learn it is missing.
    client.force_login(bare)
    assert client.get(f"/api/trips/{owned['trip_id'] + 1000}/").status_code == 403


@pytest.mark.parametrize("big", [2**63, 10**20 - 1, 10**40])
def test_an_id_beyond_bigint_does_not_route_and_its_event_keeps_integers(admin_client, client, volt, wide_events,
                                                                          big) -> None:
    """A 20-digit id reached the view and the event as a string (`vehicle.id: "99999999999999999999"`)."""
    routes = [re.sub(r"<\w+:\w+>", str(big), str(pattern.pattern)) for pattern in api_patterns()]
    for url in ("/" + route for route in routes):
        assert answer(admin_client.get(url)) == (404, ["error"], "E004"), url
        token = client.get(url, headers={"Authorization": f"Bearer {volt.token}"})
        assert answer(token) == (404, ["error"], "E004"), url
    assert len(wide_events.events) == 2 * len(routes)  # each valid against the schema (the autouse check)
    assert all("id" not in event.get("vehicle", {}) for event in wide_events.events)


def test_every_admin_page_needs_a_staff_login_with_the_models_permission(client, owned) -> None:
    changelists = [reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist") for m in admin.site._registry]
    assert len(changelists) >= 6
    for url in changelists:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), url
    User.objects.create_user("staff", password="pw-staff-123", is_staff=True)  # staff, no permission at all
    client.login(username="staff", password="pw-staff-123")
    for url in changelists:
        assert client.get(url).status_code == 403, url


def test_upload_token_is_stored_hashed_looked_up_by_hash_and_never_shown(client, volt, owned, admin_user) -> None:
    # Nowhere in the database, in any table or column, after uploads, a trip and an API read.
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
        tables = [row[0] for row in cursor.fetchall()]
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}" t WHERE row_to_json(t)::text LIKE %s',
                           [f"%{volt.token}%"])
            assert cursor.fetchone()[0] == 0, table
    assert volt.vehicle.token_hash == token_hash(volt.token) and len(volt.vehicle.token_hash) == 64

    # The lookup sends the hash, never the token, to the database: the comparison is an index probe on
    # a SHA-256 the caller cannot steer byte by byte, so its time says nothing about the stored value.
    with CaptureQueriesContext(connection) as queries:
        assert (vehicle := vehicle_for_token(volt.token)) is not None and vehicle.pk == volt.vehicle.pk
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert token_hash(volt.token) in sql and volt.token not in sql
    assert token_matches(volt.token, volt.vehicle.token_hash) and not token_matches(volt.token + "x",
                                                                                    volt.vehicle.token_hash)

    # Not echoed: not in error bodies, not in the admin's pages for the vehicle.
    client.force_login(admin_user)
    pages = [client.get(reverse("admin:telemetry_vehicle_changelist")),
             client.get(reverse("admin:telemetry_vehicle_change", args=[volt.vehicle.pk])),
             client.post(f"/api/torque/upload/{volt.token}x", {"time": "1"}),
             client.put(f"/api/torque/upload/{volt.token}"),
             client.get(f"/api/torque/upload/{volt.token}/extra")]
    assert [p.status_code for p in pages] == [200, 200, 401, 405, 404]
    for page in pages:
        assert volt.token not in page.content.decode()
