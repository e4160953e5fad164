"""Fifty slow connections against a real gunicorn (sync workers), with and without the repository's nginx
config in front (Debian's nginx, tests/proxy.py). With it, uploads from a normal client go through, each
within 2 s; without it (the baseline in docs/reliability.md) two slow connections hold both workers.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.models import Reading
from telemetry.vehicles import vehicle_create
from tests.live import LiveWeb, live_env, live_web_running
from tests.proxy import LiveProxy, live_proxy_running
from tests.reliability.slow_clients import SlowClients
from tests.reliability.test_database_faults import keep_all_policy  # noqa: F401 - a fixture

UPLOAD_DEADLINE_S = 2.0


@dataclass
class Served:
    answers: list[tuple[int, str, float]]  # status, body, seconds

    @property
    def ok_in_time(self) -> int:
        return sum(1 for status, body, seconds in self.answers if body == "OK!" and seconds < UPLOAD_DEADLINE_S)


def normal_client(base_url: str, token: str, readings: Iterator[dict[str, str]], seconds: float) -> Served:
    """One upload every 0.25 s for `seconds`, each on a new connection, each given UPLOAD_DEADLINE_S."""
    answers: list[tuple[int, str, float]] = []
    stop_at = time.monotonic() + seconds
    while time.monotonic() < stop_at:
        started = time.monotonic()
        try:
            response = httpx.post(f"{base_url}/api/torque/upload/{token}", data=next(readings),
                                  timeout=UPLOAD_DEADLINE_S)
            answers.append((response.status_code, response.text, time.monotonic() - started))
        except httpx.TransportError as exc:
            answers.append((0, type(exc).__name__, time.monotonic() - started))
        time.sleep(0.25)
    return Served(answers)


@pytest.fixture
def web(transactional_db: None, tmp_path: Path) -> Iterator[LiveWeb]:
    # Two sync workers, as small as a production gunicorn gets (compose runs three).
    with live_web_running(tmp_path, live_env(tmp_path), workers=2) as web:
        yield web


@pytest.fixture
def proxy(web: LiveWeb, tmp_path: Path) -> Iterator[LiveProxy]:
    with live_proxy_running(tmp_path, web.base_url) as proxy:
        yield proxy


@pytest.mark.django_db(transaction=True)
@pytest.mark.live_web
def test_fifty_slow_connections_hold_nothing_behind_the_proxy_and_everything_without_it(
        web: LiveWeb, proxy: LiveProxy) -> None:
    car = vehicle_create(name="Normal client")
    readings = iter(drive_readings(DrivePlan(session="slow-1", start=datetime(2026, 6, 2, tzinfo=UTC),
                                             step_seconds=1, electric_miles=60.0)))

    with SlowClients("127.0.0.1", proxy.port) as attack:
        time.sleep(2.5)  # every slow connection open and sending before the client starts
        behind_proxy = normal_client(proxy.base_url, car.token, readings, seconds=16)
    proxied_open, proxied_held = min(attack.open_counts), list(attack.held_seconds)

    web_port = int(web.base_url.rsplit(":", 1)[1])
    with SlowClients("127.0.0.1", web_port) as attack:
        time.sleep(2.5)
        direct = normal_client(web.base_url, car.token, readings, seconds=8)
    direct_open = min(attack.open_counts)

    figures = {"proxied": (behind_proxy.ok_in_time, len(behind_proxy.answers), proxied_open),
               "direct": (direct.ok_in_time, len(direct.answers), direct_open),
               "slowest_proxied_s": round(max(s for _, _, s in behind_proxy.answers), 3),
               "held_s": sorted(round(s) for s in proxied_held)[:3]}
    print(figures)  # the figures docs/reliability.md quotes (pytest -s)
    assert proxied_open == 50 and direct_open == 50, figures  # the attack was on the whole time
    assert len(behind_proxy.answers) >= 30 and behind_proxy.ok_in_time >= 0.95 * len(behind_proxy.answers), figures
    # nginx ends a header still unfinished after client_header_timeout (10 s); the attacker reopens at once.
    assert proxied_held and all(9 <= s <= 14 for s in proxied_held), figures
    # Without the proxy the sync workers sit reading the slow requests: (almost) nothing gets through.
    assert direct.ok_in_time <= 0.2 * len(direct.answers), figures
    assert Reading.objects.filter(vehicle_id=car.vehicle.pk).count() >= behind_proxy.ok_in_time + direct.ok_in_time

    access = proxy.access_log.read_text()
    assert "POST /api/torque/upload/[redacted]\" 200" in access
    assert car.token not in access and car.token not in proxy.error_log.read_text()


def multipart_head(size: int) -> bytes:
    return (b"POST /api/torque/upload/not-a-token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: " + str(size).encode() + b"\r\n\r\n")


@pytest.mark.django_db(transaction=True)
@pytest.mark.live_web
def test_the_proxy_refuses_a_body_over_the_apps_limit_before_reading_it(
        keep_all_policy: None, web: LiveWeb, proxy: LiveProxy) -> None:
    """A 50 MB body: 413 E002 from nginx on the header alone; gunicorn never sees the request."""
    events_before = len(web.events())
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
        sock.sendall(multipart_head(50 * 1024 * 1024) + b"--b\r\n")
        answer = sock.recv(65536).decode()
    seconds = time.monotonic() - started
    print({"refused_50mb_s": round(seconds, 4)})  # docs/reliability.md's figure
    assert answer.startswith("HTTP/1.1 413"), answer
    assert '{"error": {"code": "E002"' in answer and seconds < 1.0, (answer, seconds)
    # Up to the limit, it goes through to the app, which answers as before (multipart: refused unread).
    small = httpx.post(f"{proxy.base_url}/api/torque/upload/not-a-token", timeout=5,
                       files={"f": ("x.bin", b"\0" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 2))})
    assert (small.status_code, small.json()["error"]["code"]) == (401, "E400")
    web.wait_until(lambda: len(web.events()) > events_before, "the app's event for the small body")
    time.sleep(0.5)  # an event for the large body, had gunicorn seen it, would be in by now too
    assert [e["http"]["status_code"] for e in web.events()[events_before:]] == [401]
