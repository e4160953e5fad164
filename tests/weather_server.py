"""A real Open-Meteo-shaped HTTP server on 127.0.0.1 for tests, answering as scripted.

Each request takes the next action of `script` (the last one repeats):
`"ok"`, `("slow", seconds)`, `("status", code)`, `("429", retry_after)`,
`"malformed"` (a 200 with broken JSON) or `"close"` (hang up without answering).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest

Action = str | tuple[str, Any]


class WeatherServer:
    def __init__(self) -> None:
        self.script: list[Action] = ["ok"]
        self.requests: list[dict[str, Any]] = []
        # Metric, as Open-Meteo answers by default: 10 °C, 2.54 mm, 32.19 km/h (20 mph), overcast.
        self.hour_values: dict[str, float] = {"temperature_2m": 10.0, "precipitation": 2.54,
                                              "wind_speed_10m": 32.18688, "weather_code": 3}
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def next_action(self) -> Action:
        with self._lock:
            return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    def body_for(self, query: dict[str, str]) -> bytes:
        start, end = date.fromisoformat(query["start_date"]), date.fromisoformat(query["end_date"])
        times = [f"{start + timedelta(days=d)}T{h:02d}:00" for d in range((end - start).days + 1) for h in range(24)]
        hourly: dict[str, Any] = {"time": times}
        hourly.update({name: [value] * len(times) for name, value in self.hour_values.items()})
        return orjson.dumps({"latitude": float(query["latitude"]), "longitude": float(query["longitude"]),
                             "utc_offset_seconds": 0, "timezone": "GMT", "hourly": hourly})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test output
                pass

            def _send(self, status: int, body: bytes, **headers: str) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in headers.items():
                        self.send_header(name.replace("_", "-"), value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout): expected

            def do_GET(self) -> None:  # http.server's API
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                server.requests.append({"path": parts.path, "query": query})
                action = server.next_action()
                arg: Any  # seconds to wait, a status or a Retry-After, by kind
                kind, arg = (action, None) if isinstance(action, str) else action
                if kind == "close":
                    self.close_connection = True
                    return
                if kind == "slow":
                    time.sleep(arg)
                if kind in ("ok", "slow"):
                    self._send(200, server.body_for(query))
                elif kind == "status":
                    self._send(arg, b'{"error": true, "reason": "scripted"}')
                elif kind == "429":
                    self._send(429, b'{"error": true, "reason": "rate limited"}', Retry_After=str(arg))
                elif kind == "malformed":
                    self._send(200, b'{"hourly": {"time": ["2026-06-01T07:00"')

        return Handler

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def weather_server(settings: Any) -> Iterator[WeatherServer]:
    """The server, with the weather settings pointed at it and kept small so the suite stays fast."""
    server = WeatherServer()
    server.start()
    settings.WEATHER_API_URL = f"{server.url}/v1/forecast"
    settings.WEATHER_ARCHIVE_API_URL = f"{server.url}/v1/archive"
    settings.WEATHER_TIMEOUT_SECONDS = 0.25
    settings.WEATHER_MAX_ATTEMPTS = 3
    settings.WEATHER_BACKOFF_BASE_SECONDS = 0.01
    settings.WEATHER_BACKOFF_MAX_SECONDS = 0.05
    settings.WEATHER_RETRY_AFTER_MAX_SECONDS = 1.5
    try:
        yield server
    finally:
        server.stop()


PLACE = (42.3, -83.0)  # the drive_sim route, on the 0.1° grid


@pytest.fixture
def clean_weather_cache() -> Iterator[None]:
    """Forget the cached hours the weather tests use (only those: the Redis db also carries the broker)."""
    from django.core.cache import cache

    from telemetry.weather import cache_key

    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    keys = [cache_key(*PLACE, now - timedelta(days=d, hours=h)) for d in (0, 30) for h in range(-24, 48)]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)
