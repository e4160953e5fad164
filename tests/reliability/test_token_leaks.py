"""What still leaked after the first review: a token in any header on any route, a value cut before it was
scrubbed, and the plain log lines that are not Django's request log (gunicorn's, CSRF, DisallowedHost)."""

from __future__ import annotations

import io
import logging
import re
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from django.test import Client

from telemetry.tokens import token_generate
from tests.live import LiveWeb

pytestmark = pytest.mark.django_db


def header_variants(token: str) -> list[dict[str, str]]:
    return [{"User-Agent": token}, {"X-Request-ID": token}, {"Authorization": f"Bearer\t{token}"},
            {"Authorization": token}, {"User-Agent": f"Torque/1.8 ({token})", "X-Request-ID": f"r.{token}"}]


def test_a_live_token_in_any_header_on_any_route_reaches_no_event_and_no_response_header(
        volt, new_vehicle, client, wide_events) -> None:
    other = new_vehicle(name="Another Volt")
    routes = ["/healthz", f"/api/torque/upload/{other.token}?session=1&time=1772473500000&kd=3",
              f"/api/vehicles/{volt.vehicle.pk}/trips/", "/no/such/page", "/admin/login/", "/api/trips/1/"]
    for route in routes:
        for headers in header_variants(volt.token):
            wide_events.lines.clear()
            response = client.get(route, headers=headers)
            assert response.status_code < 500, (route, headers)
            leaked = {name: value for name, value in response.items() if volt.token in value}
            assert leaked == {}, (route, headers)
            [line] = wide_events.lines
            assert volt.token not in line, (route, headers)
            assert re.fullmatch(r"[0-9a-f-]{36}", wide_events.events[0]["request_id"]), (route, headers)


def test_a_value_is_scrubbed_before_it_is_cut(volt, upload, wide_events) -> None:
    """`v` is cut to 16 characters: cut first, `jane.doe@example.com` left `jane.doe@example` (no dotted domain)."""
    response = upload(volt.token, {"session": "s-1", "time": "1772473500000", "kd": "3", "v": "jane.doe@example.com"})
    assert response.content == b"OK!"
    [line] = wide_events.lines
    assert "jane" not in line and wide_events.events[0]["telemetry"]["protocol_version"] == "[redacted]"


@contextmanager
def console_output() -> Iterator[io.StringIO]:
    """What the console handler (settings.LOGGING, with its redaction filter) prints meanwhile."""
    [console] = logging.getLogger("django").handlers
    assert isinstance(console, logging.StreamHandler)
    buffer = io.StringIO()
    previous = console.setStream(buffer)
    try:
        yield buffer
    finally:
        console.setStream(previous)


def test_the_csrf_warning_shows_no_token_in_its_path(admin_user) -> None:
    token = token_generate()
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    with console_output() as out:
        response = client.post(f"/admin/telemetry/vehicle/{token}/change/", {"name": "x"})
    assert response.status_code == 403
    assert "WARNING django.security.csrf Forbidden (CSRF cookie not set.): /admin/telemetry/vehicle/" in out.getvalue()
    assert token not in out.getvalue()


def test_disallowed_host_shows_no_token_shaped_host(client) -> None:
    token = token_generate()
    with console_output() as out:
        for host in (token, f"{token.lower()}.evil.example"):
            assert client.get("/healthz", headers={"Host": host}).status_code == 400
    text = out.getvalue()
    assert text.count("django.security.DisallowedHost Invalid HTTP_HOST header: '[redacted]") == 2, text
    assert token not in text and token.lower() not in text


def raw_request(web: LiveWeb, data: bytes) -> bytes:
    host, port = web.base_url.removeprefix("http://").split(":")
    """The whole answer: every one of these closes the connection after it."""
    answer = b""
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(data)
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_gunicorns_error_log_shows_no_token_address_or_full_ip(live_web: LiveWeb) -> None:
    token = token_generate()
    target = f"/api/torque/upload/{token}?eml=jane.doe@example.com&kff1006=47.61".encode()
    lines = [b"GET " + target + b"\xff HTTP/1.1",  # a raw non-ASCII byte
             b"GET " + target + b"\x00 HTTP/1.1",  # a NUL
             b"GET " + target + b"&x=a b HTTP/1.1",  # a raw space: the version is what gunicorn quotes
             b"GET " + target.replace(token[:8].encode(), token[:8].encode() + b" ") + b" HTTP/1.1"]  # in the token
    before = len(live_web.log())
    for line in lines:
        assert raw_request(live_web, line + b"\r\nHost: localhost\r\n\r\n").startswith(b"HTTP/1.1 400")
    live_web.wait_until(lambda: live_web.log()[before:].count("Invalid request from") == 4, "4 lines logged")
    logged = live_web.log()[before:]
    assert token[8:] not in logged and "jane.doe" not in logged and "47.61" not in logged, logged
    assert "127.0.0.1" not in logged and logged.count("Invalid request from ip=127.0.0.0/24: ") == 4, logged


def test_a_content_length_beyond_64_bits_is_400_at_the_edge_and_the_event_keeps_integers(live_web: LiveWeb) -> None:
    """Through a real gunicorn: the size reached the event as the string "18446744073709551616"."""
    request_id = f"cl-{time.monotonic_ns()}"
    head = (f"POST /api/torque/upload/{token_generate()} HTTP/1.1\r\nHost: localhost\r\nX-Request-ID: {request_id}"
            "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 18446744073709551616\r\n\r\n")
    answer = raw_request(live_web, head.encode() + b"session=1")
    assert answer.startswith(b"HTTP/1.1 400") and b'"E006"' in answer
    event = live_web.wait_for_event(lambda e: e["request_id"] == request_id)  # checked against the schema
    assert event["error"]["code"] == "E006" and "request_size_bytes" not in event["http"]
    assert httpx.get(f"{live_web.base_url}/healthz", timeout=5).status_code == 200  # and it still serves
