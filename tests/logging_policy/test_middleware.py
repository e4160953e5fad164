"""WideEventMiddleware: exactly one event for every kind of request, ids in and out, queries counted."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from django.contrib.auth.models import User
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from logging_policy.current import current_event
from logging_policy.middleware import (
    WideEventMiddleware,
    client_network,
    content_length,
    traceparent_parse,
    unrouted_path,
)
from logging_policy.views import server_error
from telemetry.drive_sim import DrivePlan, drive_readings
from tests.telemetry.budget import steady_upload_queries

pytestmark = pytest.mark.django_db
START = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def first_reading(session: str = "m-1") -> dict[str, str]:
    return next(drive_readings(DrivePlan(session=session, start=START)))


def test_stored_and_duplicate_uploads_each_emit_one_event(volt, upload, wide_events) -> None:
    params = first_reading()
    assert upload(volt.token, params).content == b"OK!"
    assert upload(volt.token, params).content == b"OK!"
    stored, duplicate = wide_events.events
    assert (stored["telemetry"]["outcome"], duplicate["telemetry"]["outcome"]) == ("stored", "duplicate")
    assert duplicate["telemetry"]["duplicate"] is True and duplicate["success"] is True
    assert stored["request_id"] != duplicate["request_id"]


def test_unknown_token_emits_one_failed_event_with_401(upload, wide_events, db) -> None:
    response = upload("not-a-real-token-at-all-xyz", first_reading())
    assert response.status_code == 401
    [event] = wide_events.events
    assert (event["http"]["status_code"], event["error"]["code"], event["success"]) == (401, "E400", False)
    assert event["request_id"] == response["X-Request-ID"]



@pytest.mark.parametrize("token", ["false", "http", "success", "timestamp", "kind", "stored", "volttracker", "upload"])
def test_a_token_that_spells_event_text_leaves_one_whole_event(token: str, upload, wide_events, db) -> None:
    """The client picks the token; replaced as bytes, `false` made `"success":[redacted]` (invalid JSON)."""
    assert upload(token, first_reading()).status_code == 401
    [event] = wide_events.events  # parses; the autouse fixture checks it against the schema
    assert (event["success"], event["kind"], event["http"]["status_code"]) == (False, "http", 401)
    assert event["http"]["path"] in ("/api/torque/upload/[redacted]", "/api/torque/[redacted]/[redacted]")
    # What the service writes stays whole: a guessed token cannot rename its own event's operation.
    assert (event["operation"], event["http"]["route"], event["service"]["name"]) == (
        "telemetry_upload", "api/torque/upload/<str:token>", "volttracker")


def test_unstorable_payload_emits_one_event_with_400(volt, upload, wide_events) -> None:
    params = first_reading()
    del params["time"]
    response = upload(volt.token, params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "E300"
    [event] = wide_events.events
    assert (event["http"]["status_code"], event["error"]["code"]) == (400, "E300")


def test_unknown_url_emits_one_json_404_event(client, wide_events) -> None:
    response = client.get("/nowhere/at/all")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "E004"
    [event] = wide_events.events
    assert (event["operation"], event["http"]["status_code"], event["error"]["code"]) == ("http_unrouted", 404, "E004")


@pytest.mark.urls("tests.logging_policy.urls_raising")
def test_raising_view_answers_json_500_and_emits_one_event(client, wide_events) -> None:
    response = client.get("/explode/")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "E500"
    [event] = wide_events.events
    assert event["operation"] == "explode" and event["success"] is False
    assert event["error"]["code"] == "E500" and event["error"]["type"] == "RuntimeError"
    assert "the view fell over" in event["error"]["message"]
    assert event["request_id"] == response["X-Request-ID"]


def test_the_500_handler_answers_as_the_middleware_does() -> None:
    """Django calls handler500 inside its `except`: a database fault raised outside a view (in a
    middleware) answers 503 with Retry-After, as one from a view does; anything else E500."""
    request = RequestFactory().get("/")
    try:
        raise OperationalError("connection refused")
    except OperationalError:
        outage = server_error(request)
    assert (outage.status_code, outage["Retry-After"], orjson.loads(outage.content)["error"]["code"]) == (503, "5", "E200")
    plain = server_error(request)
    assert (plain.status_code, orjson.loads(plain.content)["error"]["code"]) == (500, "E500")


def test_admin_page_emits_one_event(client, wide_events) -> None:
    staff = User.objects.create_superuser("admin", password="pw-not-logged-123")
    client.force_login(staff)
    response = client.get("/admin/")
    assert response.status_code == 200
    [event] = wide_events.events
    assert event["operation"] == "admin:index" and event["http"]["route"] == "admin/"
    assert event["success"] is True and event["db"]["queries"] >= 1


def test_request_id_is_taken_from_the_header_and_echoed(client, wide_events) -> None:
    response = client.get("/nowhere", headers={"X-Request-ID": "lb-1234.abc"})
    assert response["X-Request-ID"] == "lb-1234.abc"
    bad = client.get("/nowhere", headers={"X-Request-ID": "has spaces <script>"})
    assert bad["X-Request-ID"] != "has spaces <script>" and len(bad["X-Request-ID"]) == 36
    assert [e["request_id"] for e in wide_events.events] == ["lb-1234.abc", bad["X-Request-ID"]]


def test_valid_traceparent_sets_trace_and_parent_span(client, wide_events) -> None:
    client.get("/nowhere", headers={"traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"})
    client.get("/nowhere", headers={"traceparent": f"00-{'0' * 32}-00f067aa0ba902b7-01"})
    given, invalid = wide_events.events
    assert (given["trace_id"], given["parent_span_id"]) == (TRACE, "00f067aa0ba902b7")
    assert invalid["trace_id"] != "0" * 32 and "parent_span_id" not in invalid


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (f"00-{TRACE}-00f067aa0ba902b7-01", (TRACE, "00f067aa0ba902b7")),
        (f" 00-{TRACE.upper()}-00F067AA0BA902B7-00 ", (TRACE, "00f067aa0ba902b7")),
        (f"ff-{TRACE}-00f067aa0ba902b7-01", None),
        (f"00-{TRACE}-{'0' * 16}-01", None),
        (f"00-{TRACE[:-1]}-00f067aa0ba902b7-01", None),
        ("", None),
        (None, None),
    ],
)
def test_traceparent_parse(header: str | None, expected: tuple[str, str] | None) -> None:
    assert traceparent_parse(header) == expected


def test_event_counts_every_database_query(volt, upload, wide_events, django_assert_num_queries) -> None:
    params = first_reading()
    upload(volt.token, params)
    with django_assert_num_queries(steady_upload_queries()) as captured:
        # the session's open trip by the cached vehicle's id and token hash; INSERT reading ON CONFLICT and UPDATE trip
        # (one statement on PostgreSQL, two on SQLite)
        assert upload(volt.token, {**params, "time": str(int(params["time"]) + 10_000)}).content == b"OK!"
    event = wide_events.events[-1]
    assert event["db"]["queries"] == len(captured.captured_queries) == steady_upload_queries()
    assert event["db"]["time_ms"] > 0


def test_middleware_directly_binds_the_event_and_echoes_the_id(wide_events) -> None:
    seen: list[str] = []

    def view(request: HttpRequest) -> HttpResponse:
        assert request.wide_event is current_event()  # type: ignore[attr-defined]  # the middleware sets it
        seen.append(current_event().request_id)
        current_event().set("business", handled=True)
        return HttpResponse("fine")

    request = RequestFactory().get("/direct", HTTP_X_REQUEST_ID="direct-1", CONTENT_LENGTH="")
    response = WideEventMiddleware(view)(request)
    assert seen == ["direct-1"] and response["X-Request-ID"] == "direct-1"
    assert current_event().request_id == ""  # unbound once the request is over
    [event] = wide_events.events
    assert (event["request_id"], event["http"]["path"], event["operation"]) == ("direct-1", "/direct", "http_unrouted")
    assert (event["business"], event["http"]["request_size_bytes"]) == ({"handled": True}, 0)
    # Emitted, the event leaves the request: it must not wait for the collector with Django's request cycles.
    assert not hasattr(request, "wide_event")


def test_a_view_that_raises_still_gets_its_event_emitted_and_dropped_from_the_request(wide_events) -> None:
    def view(request: HttpRequest) -> HttpResponse:
        current_event().fact("trip_created")
        raise RuntimeError("view broke")

    request = RequestFactory().get("/direct-fail")
    with pytest.raises(RuntimeError, match="view broke"):
        WideEventMiddleware(view)(request)
    [event] = wide_events.events
    assert (event["success"], event["error"]["code"], event["http"]["status_code"]) == (False, "E500", 500)
    assert event["business"] == {"trip_created": True} and not hasattr(request, "wide_event")


@pytest.mark.parametrize("declared", ["18446744073709551616", str(2**63), "junk", "-5"])
def test_a_content_length_that_is_no_size_is_refused_before_the_view(wide_events, declared) -> None:
    """`18446744073709551616` was written as a string where the schema says integer."""
    def view(request: HttpRequest) -> HttpResponse:
        raise AssertionError("the view must not run")

    request = RequestFactory().post("/api/torque/upload/x", "session=1", content_type="text/plain",
                                    CONTENT_LENGTH=declared)
    response = WideEventMiddleware(view)(request)
    assert (response.status_code, orjson.loads(response.content)["error"]["code"]) == (400, "E006")
    [event] = wide_events.events
    assert event["error"]["code"] == "E006" and event["http"]["status_code"] == 400
    assert "request_size_bytes" not in event["http"]  # the autouse check validates the rest against the schema


def test_content_length_is_a_size_or_none() -> None:
    assert content_length("12") == 12 and content_length(None) == 0 and content_length("") == 0
    assert content_length(str(2**63 - 1)) == 2**63 - 1
    for malformed in ("-5", "x", "1e3", "٣", " 12", str(2**63), "18446744073709551616", "9" * 40):
        assert content_length(malformed) is None, malformed


TOKEN = "AbCdEfGhIjKlMnOpQrStUvWx-_0123456"


@pytest.mark.parametrize(("path", "expected"), [
    (f"/api/torque/upload/{TOKEN}/extra", "/api/torque/upload/[redacted]"),
    (f"/api/torque/upload/{TOKEN} /x", "/api/torque/upload/[redacted]"),
    (f"/api/torque/upload/x/{TOKEN[:8]}", "/api/torque/upload/[redacted]"),
    (f"/api/torque/{TOKEN}@x/y", "/api/torque/[redacted]@x/y"),
    (f"/upload/{TOKEN}!/x", "/upload/[redacted]!/x"),
    (f"/u/{TOKEN},x/y", "/u/[redacted],x/y"),
    ("/admin/login/", "/admin/login/"),
])
def test_an_unrouted_path_keeps_no_opaque_run(path: str, expected: str) -> None:
    assert unrouted_path(path) == expected


def test_permission_denied_stays_a_403_with_one_event(client, db, wide_events) -> None:
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_user("viewer", password="x", is_staff=True))
    response = client.get("/admin/telemetry/trip/add/")  # read-only admin: adding is refused
    assert response.status_code == 403
    [event] = wide_events.events
    assert event["http"]["status_code"] == 403 and "error" not in event


def test_a_request_id_holding_the_token_is_replaced_before_the_view(volt, upload, wide_events) -> None:
    """Torque sends no headers, another client may: its X-Request-ID would travel on into the headers of
    the tasks the view queues, whose events do not know the token; and be echoed in the response."""
    response = upload(volt.token, first_reading(), **{"X-Request-ID": f"id-{volt.token}"})
    [event] = wide_events.events
    assert response.content == b"OK!" and volt.token not in response["X-Request-ID"]
    assert event["request_id"] == response["X-Request-ID"] and len(event["request_id"]) == 36  # a fresh UUID
    assert volt.token not in wide_events.lines[0]


@pytest.mark.parametrize(("path", "extra"), [
    ("/api/torque/upload/{token}/extra", {}),  # unrouted: no view, no URL kwargs
    ("/api//torque/upload//{token}", {}),  # doubled slashes: unrouted too
    ("/api/torque/upload/{token}", {"HTTP_HOST": "evil.example"}),  # refused Host: 400 before routing
])
def test_a_request_id_holding_the_token_is_replaced_when_no_view_runs(volt, client, wide_events, path, extra) -> None:
    response = client.get(path.format(token=volt.token), headers={"X-Request-ID": volt.token}, **extra)
    [event] = wide_events.events
    assert response.status_code in (400, 404) and volt.token not in response["X-Request-ID"]
    assert event["request_id"] == response["X-Request-ID"] and volt.token not in wide_events.lines[0]


def test_the_token_is_found_under_a_script_name_prefix(volt, wide_events, rf) -> None:
    """Mounted under a prefix, request.path starts with it; the token is found in path_info, as routed."""
    request = rf.get(f"/api/torque/upload/{volt.token}", SCRIPT_NAME="/vt", HTTP_X_REQUEST_ID=f"id-{volt.token}")
    assert request.path == f"/vt/api/torque/upload/{volt.token}"
    response = WideEventMiddleware(lambda r: HttpResponse("OK!"))(request)
    assert volt.token not in response["X-Request-ID"] and volt.token not in wide_events.lines[0]


@pytest.mark.parametrize(("address", "network"), [
    ("203.0.113.77", "203.0.113.0/24"),
    ("2001:db8:1:2::5", "2001:db8:1::/48"),
    ("2001::dead:beef", "2001::/48"),
    ("fe80::1234:5678%eth0", "fe80::/48"),
    ("::ffff:203.0.113.77", "203.0.113.0/24"),
    ("::203.0.113.77", "::/48"),
    ("203.0.113.77:51234", ""),  # with a port, or bracketed: not an address, nothing guessed
    ("[2001:db8:1:2::5]:443", ""),
    ("", ""),
    ("garbage", ""),
])
def test_the_client_is_reduced_to_its_network(address: str, network: str) -> None:
    assert client_network(address) == network
