"""Cost of one wide event, and of the middleware around a request. A benchmark, not a test.

    DATABASE_URL=... python bench/bench_events.py [--n 3000] [--rounds 5]

1. Building the event of a normal upload (the fields the upload view sets, four timers,
   four recorded queries), deciding (sampling under a keep-all policy, so every event is
   written), serializing and writing it through the `wide_events` logger to a file; then
   the same with the view's event-only fields computed (vehicle context, reading summary);
   then everything the event adds to an upload: the real WideEventMiddleware around a view
   making the steady-state upload's event calls (two queries through Django's wrapper chain),
   less that view with no middleware and no event calls.
2. A request through Django's WSGI handler with and without WideEventMiddleware,
   interleaved round by round (JSON 404: routing, every middleware, no database).
Figures are this thread's CPU time per call (time.thread_time), medians and best over rounds;
record them in docs/benchmarks.md. Prints one JSON line last (for bench/run_all.py).
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "volttracker.settings")

import django
import orjson

django.setup()

from django.conf import settings  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.backends.utils import CursorWrapper  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.urls import resolve  # noqa: E402
from django.utils import timezone  # noqa: E402

from logging_policy.counters import counters_flush  # noqa: E402
from logging_policy.current import current_event  # noqa: E402
from logging_policy.emit import SafeFileHandler, event_emit, event_open  # noqa: E402
from logging_policy.middleware import WideEventMiddleware  # noqa: E402
from logging_policy.policy import policy_override  # noqa: E402
from logging_policy.policy import policy_current  # noqa: E402
from logging_policy.sampling import PolicySnapshot  # noqa: E402
from telemetry.drive_sim import DrivePlan, drive_readings  # noqa: E402
from telemetry.ingest import upload_describe  # noqa: E402
from telemetry.models import Vehicle, VehicleStats  # noqa: E402
from telemetry.torque import parse_upload  # noqa: E402
from telemetry.vehicle_context import vehicle_context, vehicle_context_add  # noqa: E402

KEEP_ALL = PolicySnapshot(default_sample_rate=1.0, new_vehicle_rate=1.0, default_budget_per_minute=10**9)
TELEMETRY = {
    "message_kind": "reading", "protocol_version": "8", "session": "1717171717171", "trip_key": "1717171717171",
    "reading_at": "2026-02-02T08:00:10+00:00", "key_count": 21, "value_count": 16, "unknown_key_count": 0,
    "rejected_keys": [], "rejected_count": 0, "soc_pct": 79.7778, "odometer_miles": 12000.106871,
    "speed_mph": 40.000025, "hv_power_kw": 11.2, "engine_rpm": 0.0, "engine_running": False, "has_gps": True,
    "charger_connected": False, "ambient_temp_f": 64.4, "fuel_level_pct": 60.0, "battery_capacity_kwh": 16.2,
}


VEHICLE = {  # telemetry.vehicle_context for a moderate vehicle: the dict the view passes to set()
    "id": 42, "total_trips": 57, "total_miles": 1830.4, "account_age_days": 190, "usage_tier": "moderate",
    "battery_capacity_kwh": 16.21, "capacity_degradation_percent": 11.9, "avg_kwh_per_mile": 0.281, "kwh_charged": 402.7,
    "charging_sessions": 61, "avg_tank_mpg": 41.3, "stats_age_seconds": 212.4,
}
TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz012345"
# The same vehicle and reading as stored: a stats row (not saved) and a parsed upload of a drive.
STATS = VehicleStats(vehicle_id=42, total_trips=57, total_miles=1830.4123, charging_sessions=61,
                     first_trip_at=timezone.now() - timedelta(days=190), battery_capacity_kwh=16.2134,
                     capacity_degradation_percent=11.92, avg_kwh_per_mile=0.28134, kwh_charged=402.71,
                     avg_tank_mpg=41.33, refreshed_at=timezone.now() - timedelta(seconds=212))
VEHICLE_ROW = Vehicle(pk=42, name="bench")
VEHICLE_ROW.stats = STATS  # as select_related("stats") leaves it: no query for the context
UPLOAD = parse_upload(list(drive_readings(DrivePlan(session="1717171717171",
                                                    start=datetime(2026, 2, 2, 8, tzinfo=UTC))))[5])


def upload_event_cycle(vehicle: dict[str, Any] | None = None, telemetry: dict[str, Any] | None = None) -> None:
    """The calls WideEventMiddleware, the upload view and the ingest service make on a stored reading.

    `vehicle` and `telemetry` are the dicts the view passes to `set()`: given ready-made by default,
    which measures the event itself; `described_upload_event_cycle` computes them as the view does.
    """
    event = event_open(operation="http_request", kind="http", request_id=None, trace_id=None)
    event.set("http", method="POST", user_agent="Torque Pro 1.12", request_size_bytes=1573,
              client_network="10.1.2.0/24")
    event.operation = "telemetry_upload"
    with event.timer("auth"):
        pass
    event.set("vehicle", VEHICLE if vehicle is None else vehicle)
    with event.timer("parse"):
        pass
    event.set("telemetry", TELEMETRY if telemetry is None else telemetry)
    event.set("trip", id=7, created=False, is_closed=False, readings_before=120, gas_mode_active=False)
    for _ in range(4):
        event.record_query(0.25)
    with event.timer("db_insert"):
        pass
    with event.timer("trip_update"):
        pass
    event.set("telemetry", stored=True, duplicate=False, reading_id=123456, outcome="stored")
    event.redact_value(TOKEN)
    path = f"/api/torque/upload/{TOKEN}".replace(TOKEN, "[redacted]")
    event.set("http", {"route": "api/torque/upload/<str:token>", "path": path[:300], "status_code": 200,
                       "response_size_bytes": 3})
    assert event_emit(event)


def described_upload_event_cycle() -> None:
    """upload_event_cycle with the work that exists only for the event: the vehicle's context from its
    stats row (rounding, tier under the current policy, ages) and the reading's 21-field summary."""
    upload_event_cycle(vehicle=vehicle_context(vehicle_id=42, stats=STATS, policy=policy_current(), now=datetime.now(UTC)),
                       telemetry=upload_describe(UPLOAD))


# The upload as WideEventMiddleware sees it: one request object, reused (the middleware leaves nothing on it).
_UPLOAD_PATH = f"/api/torque/upload/{TOKEN}"


def _upload_request() -> HttpRequest:
    request = RequestFactory().post(_UPLOAD_PATH, HTTP_USER_AGENT="Torque Pro 1.12", REMOTE_ADDR="10.1.2.3",
                                    CONTENT_LENGTH="1573")
    request.resolver_match = resolve(_UPLOAD_PATH)
    return request


def _query() -> None:
    """One query's trip through Django's wrapper chain (CursorWrapper._execute_with_wrappers), minus the database."""
    CursorWrapper(None, connection)._execute_with_wrappers("SELECT 1", None, False, lambda *args: None)


def upload_view_with_event_calls(request: HttpRequest) -> HttpResponse:
    """The steady-state upload as the view and the ingest service run it, their work replaced by its queries:
    every call they make on the event, and the fields that exist only for it, as they compute them."""
    event = current_event()
    event.operation = "telemetry_upload"
    with event.timer("parse"):
        pass
    with event.timer("auth"):
        _query()
    vehicle_context_add(vehicle=VEHICLE_ROW)
    event.set("telemetry", upload_describe(UPLOAD))
    event.set("trip", id=7, created=False, is_closed=False, readings_before=120, gas_mode_active=False)
    with event.timer("parked_detect"):
        pass
    with event.timer("db_insert"):
        _query()
    event.set("telemetry", stored=True, duplicate=False, reading_id=123456, outcome="stored")
    return HttpResponse("OK!", content_type="text/plain")


def upload_view_bare(request: HttpRequest) -> HttpResponse:
    """The same view with no event: its two queries and its response."""
    _query()
    _query()
    return HttpResponse("OK!", content_type="text/plain")


def plain_log_line(logger: logging.Logger, line: str) -> Callable[[], None]:
    """Baseline: one ready-made line of the same size through logging.info to the same file."""
    return lambda: logger.info(line)


def per_call_us(fn: Callable[[], Any], n: int) -> float:
    """CPU time of this thread per call: on a shared machine wall time mostly measures the neighbours."""
    start = time.thread_time()
    for _ in range(n):
        fn()
    return (time.thread_time() - start) / n * 1e6


def wsgi_handler(with_events: bool) -> WSGIHandler:
    middleware = list(settings.MIDDLEWARE)
    if not with_events:
        middleware.remove("logging_policy.middleware.WideEventMiddleware")
    settings.MIDDLEWARE = middleware
    return WSGIHandler()


def request_once(handler: WSGIHandler) -> None:
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/api/nowhere", "QUERY_STRING": "", "SERVER_NAME": "localhost",
               "SERVER_PORT": "80", "HTTP_HOST": "localhost", "REMOTE_ADDR": "10.1.2.3", "wsgi.url_scheme": "http",
               "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr}
    status: list[str] = []

    def start_response(status_line: str, headers: list[tuple[str, str]], exc_info: object = None) -> Callable[[bytes], None]:
        status.append(status_line)
        return lambda data: None

    body = b"".join(handler(environ, start_response))
    assert status[0].startswith("404") and b"E004" in body


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    logger = logging.getLogger("wide_events")
    with tempfile.TemporaryDirectory() as tmp:
        sink = SafeFileHandler(str(Path(tmp) / "events.jsonl"))
        logger.handlers, saved = [sink], logger.handlers
        try:
            with policy_override(KEEP_ALL):
                original = list(settings.MIDDLEWARE)
                on, off = wsgi_handler(True), wsgi_handler(False)
                settings.MIDDLEWARE = original
                request = _upload_request()
                middleware = WideEventMiddleware(upload_view_with_event_calls)

                def with_event() -> None:
                    middleware(request)

                def without_event() -> None:
                    upload_view_bare(request)

                for fn in (upload_event_cycle, described_upload_event_cycle, with_event, without_event,
                           lambda: request_once(on), lambda: request_once(off)):
                    per_call_us(fn, 200)  # warm-up
                # The process's first counters flush opens the cache connection (tens of ms, once per
                # process): made here, so that a round is not charged with it. Later flushes are measured.
                if not counters_flush():
                    sys.exit("the counters could not be flushed: is the cache (REDIS_URL) reachable?")
                baseline = plain_log_line(logger, "x" * 1450)
                sample = orjson.loads(Path(tmp, "events.jsonl").read_bytes().splitlines()[0])  # an upload event
                event_us, described_us, on_us, off_us, plain_us, dumps_us = [], [], [], [], [], []
                whole_us: list[float] = []  # per round: middleware + view's event calls - the bare view
                for _ in range(args.rounds):
                    event_us.append(per_call_us(upload_event_cycle, args.n))
                    described_us.append(per_call_us(described_upload_event_cycle, args.n))
                    whole_us.append(per_call_us(with_event, args.n) - per_call_us(without_event, args.n))
                    plain_us.append(per_call_us(baseline, args.n))
                    dumps_us.append(per_call_us(lambda: orjson.dumps(sample), args.n))
                    on_us.append(per_call_us(lambda: request_once(on), args.n // 3))
                    off_us.append(per_call_us(lambda: request_once(off), args.n // 3))
            lines = (Path(tmp) / "events.jsonl").read_bytes().splitlines(keepends=True)
            events = [line for line in lines if line.startswith(b"{")]
            written = len(events)
            size = sum(len(line) for line in events) / written
        finally:
            logger.handlers = saved
    med = statistics.median
    print(f"upload event build+decide+serialize+write: median {med(event_us):.1f} us, best {min(event_us):.1f} us "
          f"(rounds: {', '.join(f'{x:.1f}' for x in event_us)}); {written} lines, {size:.0f} bytes/line")
    print(f"the same with the view's event-only work (vehicle context, reading summary): median "
          f"{med(described_us):.1f} us, best {min(described_us):.1f} us")
    print(f"the same through the real WideEventMiddleware and the view's event calls, less the view without "
          f"them: median {med(whole_us):.1f} us, best {min(whole_us):.1f} us "
          f"(rounds: {', '.join(f'{x:.1f}' for x in whole_us)})")
    print(f"baseline, one plain 1450-byte logging.info line to the same file: median {med(plain_us):.1f} us, "
          f"best {min(plain_us):.1f} us; event/baseline {med(event_us) / med(plain_us):.2f}x")
    print(f"machine speed: orjson.dumps of that event alone: median {med(dumps_us):.1f} us; "
          f"event/dumps {med(event_us) / med(dumps_us):.1f}x")
    print(f"WSGI 404 with WideEventMiddleware:    median {med(on_us):.1f} us/request, best {min(on_us):.1f}")
    print(f"WSGI 404 without WideEventMiddleware: median {med(off_us):.1f} us/request, best {min(off_us):.1f}")
    ratios = [a / b for a, b in zip(on_us, off_us, strict=True)]
    print(f"middleware cost: {med(on_us) - med(off_us):.1f} us/request (medians); per-round ratio on/off: "
          f"median {med(ratios):.2f}x ({', '.join(f'{r:.2f}' for r in ratios)})")
    print(json.dumps({"bench": "events", "event_us": round(med(event_us), 1),
                      "described_event_us": round(med(described_us), 1), "whole_event_us": round(med(whole_us), 1),
                      "plain_line_us": round(med(plain_us), 1),
                      "wsgi_404_added_us": round(med(on_us) - med(off_us), 1), "wsgi_404_ratio": round(med(ratios), 2)}))


if __name__ == "__main__":
    main()
