"""Plain log lines (Django's errors, the dev server's access lines) never show an upload token or its query."""

from __future__ import annotations

import io
import logging
import sys

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django.utils.log import log_response

from logging_policy.log_filters import PlainLogRedactFilter, plain_log_redact, routed_path
from logging_policy.redact import token_shaped
from telemetry.event_vocabulary import UPLOAD_PREFIX
from telemetry.tokens import token_generate

TOKEN = "S3cretUpl0adT0kenXYZ"


@pytest.mark.parametrize(("line", "expected"), [
    (f'"POST /api/torque/upload/{TOKEN} HTTP/1.1" 200 3', '"POST /api/torque/upload/[redacted] HTTP/1.1" 200 3'),
    (f"GET /api/torque/upload/{TOKEN}/?eml=a%40b.org&kff1006=42.1 HTTP/1.1", "GET /api/torque/upload/[redacted] HTTP/1.1"),
    (f"Service Unavailable: /api/torque/upload/{TOKEN}", "Service Unavailable: /api/torque/upload/[redacted]"),
    ("GET /api/vehicles/3/trips/ HTTP/1.1", "GET /api/vehicles/3/trips/ HTTP/1.1"),
    (f'"GET /api/torque/%75pload/{TOKEN}?eml=a%40b.org HTTP/1.1" 401 90', '"GET /api/torque/upload/[redacted] HTTP/1.1" 401 90'),
    ('"GET /api/torque/upload?eml=a%40b.org&kff1006=42.1 HTTP/1.1" 404', '"GET /api/torque/upload?[redacted] HTTP/1.1" 404'),
    (f'"PROPFIND /x/{TOKEN}!/y HTTP/1.1" 405', '"PROPFIND /x/[redacted]!/y HTTP/1.1" 405'),
    (f"Not Found: /api/torque/{TOKEN}@x", "Not Found: /api/torque/[redacted]@x"),
    ("Watching for file changes with StatReloader", "Watching for file changes with StatReloader"),
    # Any spacing or method a client sends (http.server splits on whitespace), the absolute form, quotes.
    (f'"get  /api/torque/%75pload/{TOKEN}?eml=a%40b.org HTTP/1.1" 200 3', '"get  /api/torque/upload/[redacted] HTTP/1.1" 200 3'),
    (f'"GET\thttp://h/api/torque/%75pload/{TOKEN}?eml=x HTTP/1.1"', '"GET\t/api/torque/upload/[redacted] HTTP/1.1"'),
    (f"\"GET /api/torque/upload/{TOKEN}'&eml=a%40b.org&kff1006=42.3 HTTP/1.1\"", '"GET /api/torque/upload/[redacted] HTTP/1.1"'),
    ('"GET /u/jane.doe@example.com/ HTTP/1.1" 404', '"GET /u/[redacted]/ HTTP/1.1" 404'),
    ("Forbidden (CSRF token missing.): /admin/login/", "Forbidden (CSRF token missing.): /admin/login/"),
    (f"/api/torque/upload/{TOKEN}", "/api/torque/upload/[redacted]"),  # a path given as its own argument
    # The app's own static files keep their names (a long one looked like a token to the mask).
    ('"GET /static/admin/img/icon-changelink.svg HTTP/1.1" 200 380',
     '"GET /static/admin/img/icon-changelink.svg HTTP/1.1" 200 380'),
    ('"GET /static/vendor/uplot/uPlot.iife.min.js?v=1 HTTP/1.1" 200 5',
     '"GET /static/vendor/uplot/uPlot.iife.min.js?[redacted] HTTP/1.1" 200 5'),
])
def test_request_log_lines_show_no_token_query_or_address(line: str, expected: str) -> None:
    assert plain_log_redact(line, request_log=True) == expected


@pytest.mark.parametrize(("line", "expected"), [
    ("/work/main/telemetry/vehicle_context.py changed, reloading.", "/work/main/telemetry/vehicle_context.py changed, reloading."),
    ('  File "/work/main/telemetry/vehicle_context.py", line 3, in f', '  File "/work/main/telemetry/vehicle_context.py", line 3, in f'),
    ("GET https://api.open-meteo.com/v1/forecast?latitude=42.3 failed", "GET https://api.open-meteo.com/v1/forecast?latitude=42.3 failed"),
    (f"could not store /api/torque/upload/{TOKEN}?eml=x for jane@example.com", "could not store /api/torque/upload/[redacted] for [redacted]"),
])
def test_other_lines_keep_their_paths_and_lose_tokens_and_addresses(line: str, expected: str) -> None:
    assert plain_log_redact(line) == expected


def test_the_filter_redacts_any_argument_type_and_the_traceback() -> None:
    try:
        raise ValueError(f"no vehicle for jane@example.com at /api/torque/upload/{TOKEN}")
    except ValueError:
        record = logging.LogRecord("telemetry", logging.ERROR, __file__, 1, "failed: %r %s", (
            [b"jane@example.com"], ValueError("jane@example.com")), sys.exc_info())
    assert PlainLogRedactFilter().filter(record) is True
    text = logging.Formatter().format(record)
    assert "jane@example.com" not in text and TOKEN not in text and "ValueError: no vehicle for [redacted]" in text


def test_the_filter_rewrites_message_and_arguments_and_keeps_the_record() -> None:
    record = logging.LogRecord("django.server", logging.INFO, __file__, 1, '"%s" %s %s',
                               (f"GET /api/torque/upload/{TOKEN}?eml=a@b.org HTTP/1.1", 401, "90"), None)
    assert PlainLogRedactFilter().filter(record) is True
    assert record.getMessage() == '"GET /api/torque/upload/[redacted] HTTP/1.1" 401 90'


def test_a_server_error_on_an_upload_logs_no_token() -> None:
    [console] = logging.getLogger("django.request").handlers  # the handler settings.LOGGING configures
    assert isinstance(console, logging.StreamHandler)
    buffer = io.StringIO()
    previous = console.setStream(buffer)
    try:
        path = f"/api/torque/upload/{TOKEN}"
        log_response("%s: %s", "Service Unavailable", path, response=HttpResponse(status=503),
                     request=RequestFactory().get(path, {"eml": "owner@example.com"}))
    finally:
        console.setStream(previous)
    assert "ERROR django.request Service Unavailable: /api/torque/upload/[redacted]" in buffer.getvalue()
    assert TOKEN not in buffer.getvalue()


def test_the_filter_masks_the_route_the_upload_view_is_served_at() -> None:
    # The filter cannot import the URLconf (logging is configured before it loads): this ties them.
    assert reverse("torque_upload", kwargs={"token": TOKEN}) == UPLOAD_PREFIX + TOKEN


def test_a_record_whose_arguments_do_not_fit_still_loses_its_addresses() -> None:
    """logging prints such a record's msg and args as they are (handleError): redacted first."""
    class User:
        def __repr__(self) -> str:
            return "<User jane@example.com>"

    record = logging.LogRecord("telemetry", logging.WARNING, __file__, 1, "no vehicle for %s at %d %s",
                               ("jane@example.com", "x", User()), None)
    assert PlainLogRedactFilter().filter(record) is True
    assert record.args == ("[redacted]", "x", "<User [redacted]>")
    odd = logging.LogRecord("telemetry", logging.WARNING, __file__, 1, ValueError("bob@example.org"), ("x",), None)
    assert PlainLogRedactFilter().filter(odd) is True
    assert "bob@example.org" not in f"{odd.msg} {odd.args}"


def test_a_traceback_another_handler_formatted_first_is_redacted_too() -> None:
    try:
        raise ValueError("no vehicle for jane@example.com")
    except ValueError:
        record = logging.LogRecord("django", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    logging.Formatter().format(record)  # an unfiltered handler caches exc_text on the record
    assert PlainLogRedactFilter().filter(record) is True
    assert record.exc_text is not None and record.exc_text.endswith("ValueError: no vehicle for [redacted]")


@pytest.mark.parametrize(("line", "expected"), [
    ("Invalid request from ip=203.0.113.9: Invalid HTTP Version: 'x'",
     "Invalid request from ip=203.0.113.0/24: Invalid HTTP Version: 'x'"),
    ("Invalid request from ip=2001:db8:1:2::7: Invalid HTTP method: 'x'",
     "Invalid request from ip=2001:db8:1::/48: Invalid HTTP method: 'x'"),
    ("Invalid request from ip=unix:/run/x.sock: bad", "Invalid request from ip=unix:/run/x.sock: bad"),  # no address
    ("Authorization: Bearer eyJhbGciOi.x9 refused", "Authorization: Bearer [redacted] refused"),
    ("Forbidden (CSRF token missing.): /admin/login/", "Forbidden (CSRF token missing.): /admin/login/"),
    # A raw space inside the token: gunicorn quotes its tail as the HTTP version.
    ("Invalid request from ip=10.0.0.7: Invalid HTTP Version: 'Xy3_Kq9ZtR2mWv8LpQ?eml=a%40b.org&kff1006=4 HTTP/1.1'",
     "Invalid request from ip=10.0.0.0/24: Invalid HTTP Version: '[redacted]?[redacted] HTTP/1.1'"),
])
def test_gunicorn_lines_keep_a_network_not_an_address_and_lose_credentials(line: str, expected: str) -> None:
    assert plain_log_redact(line, request_log=True) == expected


def test_every_generated_token_is_token_shaped_and_hex_runs_are_not() -> None:
    """The plain logs and the events' headers find tokens by their shape: it must be token_generate's."""
    for _ in range(2000):
        token = token_generate()
        assert token_shaped(f"Host '{token}'.") == (token,)
        assert plain_log_redact(f"Invalid HTTP_HOST header: '{token}'") == "Invalid HTTP_HOST header: '[redacted]'"
    assert token_shaped("trace 0123456789abcdef0123456789abcdef, a uuid 1b4e28ba-2fa1-11d2-883f-0016d3cca427") == ()


def test_the_static_prefix_left_unmasked_is_the_static_url(settings) -> None:
    from logging_policy.log_filters import STATIC_PREFIX

    assert STATIC_PREFIX == "/" + settings.STATIC_URL.lstrip("/")


def test_a_slug_stays_readable_and_a_token_shaped_run_does_not() -> None:
    assert routed_path("/admin/logging_policy/explore/new-vehicles-trip-errors/") == \
        "/admin/logging_policy/explore/new-vehicles-trip-errors/"
    assert routed_path("/admin/telemetry/vehicle/Xy3_Kq9ZtR2mWv8LpQabcdefgh/") == "/admin/telemetry/vehicle/[redacted]/"
    assert routed_path("/admin/x/" + "a" * 20 + "%41/") == "/admin/x/[redacted]/"
