"""Weather client: the service boundary to an Open-Meteo-shaped API, with its own wide events.

`weather_lookup` answers "the weather at this place for these UTC hours": from the
shared cache when it can, else one HTTP call with bounded retries. Every lookup
emits its own event (`operation=external_api.weather`, `kind=external_call`) in
the caller's trace, and never raises: a failure comes back as an error code.
The pure parts (parsing, units, retry decisions) live in `weather_model.py`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.core.cache import cache

from logging_policy.current import current_event
from logging_policy.emit import event_emit, event_open
from logging_policy.events import WideEvent
from telemetry.weather_model import (
    HOURLY_VARIABLES, HourWeather, WeatherResponseError, backoff_delays, hourly_parse, location_round,
    retry_after_seconds, status_error_code, status_retriable,
)

logger = logging.getLogger(__name__)
OPERATION = "external_api.weather"


@dataclass(slots=True)
class Attempt:
    n: int
    latency_ms: float
    status_code: int | None = None
    error_code: str | None = None
    error: str | None = None
    response_bytes: int = 0
    retry_after_s: float | None = None
    wait_s: float | None = None


@dataclass(slots=True)
class Fetched:
    hours: dict[datetime, HourWeather] | None
    attempts: list[Attempt] = field(default_factory=list)
    error_code: str | None = None
    error: str | None = None
    gave_up: str | None = None


@dataclass(frozen=True, slots=True)
class Lookup:
    """What one lookup found: hours it could answer, and how it went (for the caller's summary)."""

    hours: dict[datetime, HourWeather]
    attempts: int
    latency_ms: float
    cache_hit: bool
    error_code: str | None


class _TooLargeError(Exception):
    pass


def cache_key(lat: float, lon: float, hour: datetime) -> str:
    """Key of one hour at one grid point; `lat`/`lon` already rounded by `location_round`."""
    return f"weather:v1:{lat:.4f}:{lon:.4f}:{hour.astimezone(UTC):%Y%m%dT%H}"


def _request_once(client: httpx.Client, url: str, params: dict[str, str]) -> tuple[int, bytes, httpx.Headers]:
    """One GET within one deadline: httpx's timeout bounds each wait, this bounds the whole body too."""
    timeout = settings.WEATHER_TIMEOUT_SECONDS
    deadline = time.monotonic() + timeout
    with client.stream("GET", url, params=params, timeout=httpx.Timeout(timeout)) as response:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > settings.WEATHER_MAX_RESPONSE_BYTES:
                raise _TooLargeError(f"response larger than {settings.WEATHER_MAX_RESPONSE_BYTES} bytes")
            if time.monotonic() > deadline:
                raise httpx.ReadTimeout("attempt deadline passed while reading the body")
            chunks.append(chunk)
        return response.status_code, b"".join(chunks), response.headers


def weather_fetch(*, url: str, params: dict[str, str]) -> Fetched:
    """GET `url` with bounded retries: exponential backoff on timeouts, connection errors, 5xx and 429.

    Other 4xx and unusable 200s are not retried (asking again gets the same answer).
    A 429's `Retry-After` is waited out when it is within `WEATHER_RETRY_AFTER_MAX_SECONDS`;
    a longer one ends the lookup rather than holding a worker.
    """
    max_attempts = max(settings.WEATHER_MAX_ATTEMPTS, 1)
    delays = backoff_delays(attempts=max_attempts, base_s=settings.WEATHER_BACKOFF_BASE_SECONDS,
                            max_s=settings.WEATHER_BACKOFF_MAX_SECONDS)
    result = Fetched(hours=None)
    headers = {"User-Agent": f"{settings.SERVICE_NAME}/{settings.APP_VERSION}", "Accept": "application/json"}
    with httpx.Client(headers=headers, follow_redirects=False) as client:
        for n in range(1, max_attempts + 1):
            started = time.perf_counter()
            attempt = Attempt(n=n, latency_ms=0.0)
            result.attempts.append(attempt)
            retriable = False
            try:
                status, body, response_headers = _request_once(client, url, params)
                attempt.status_code, attempt.response_bytes = status, len(body)
                if status == 200:
                    result.hours = hourly_parse(body)
                else:
                    attempt.error_code, attempt.error = status_error_code(status), f"HTTP {status}"
                    retriable = status_retriable(status)
                    if status == 429:
                        attempt.retry_after_s = retry_after_seconds(response_headers.get("Retry-After"),
                                                                    now=datetime.now(UTC))
            except WeatherResponseError as exc:
                attempt.error_code, attempt.error = "E102", str(exc)[:200]
            except _TooLargeError as exc:
                attempt.error_code, attempt.error = "E102", str(exc)
            except httpx.TimeoutException as exc:
                # The exception's class only: its text may quote what the peer sent back, and a broken
                # proxy echoing the request line puts our query (the trip's position) in it.
                attempt.error_code, attempt.error, retriable = "E100", type(exc).__name__, True
            except httpx.TransportError as exc:
                attempt.error_code, attempt.error, retriable = "E101", type(exc).__name__, True
            attempt.latency_ms = round((time.perf_counter() - started) * 1000.0, 3)
            result.error_code, result.error = attempt.error_code, attempt.error
            if attempt.error_code is None or not retriable:
                break
            if n == max_attempts:
                result.gave_up = "attempts_exhausted"
                break
            wait = delays[n - 1]
            if attempt.retry_after_s is not None:
                if attempt.retry_after_s > settings.WEATHER_RETRY_AFTER_MAX_SECONDS:
                    result.gave_up = "retry_after_over_cap"
                    break
                wait = max(wait, attempt.retry_after_s)
            attempt.wait_s = round(wait, 3)
            time.sleep(wait)
    return result


def _endpoint(oldest: datetime, now: datetime) -> tuple[str, str]:
    """The forecast API serves recent hours; older ones come from the archive (reanalysis)."""
    if oldest < now - timedelta(days=settings.WEATHER_FORECAST_MAX_AGE_DAYS):
        return "archive", settings.WEATHER_ARCHIVE_API_URL
    return "forecast", settings.WEATHER_API_URL


def _cache_read(keys: list[str], event: WideEvent) -> dict[str, Any]:
    try:
        return cache.get_many(keys)
    except Exception as exc:  # noqa: BLE001 - a cache outage costs a call, never the lookup
        event.note_warning("E501", f"weather cache read failed: {type(exc).__name__}")
        return {}


def _cache_write(values: dict[str, Any], event: WideEvent) -> None:
    try:
        cache.set_many(values, timeout=settings.WEATHER_CACHE_SECONDS)
    except Exception as exc:  # noqa: BLE001
        event.note_warning("E501", f"weather cache write failed: {type(exc).__name__}")


def _lookup(event: WideEvent, lat: float, lon: float, hours: list[datetime], now: datetime) -> Lookup:
    started = time.perf_counter()
    keys = {hour: cache_key(lat, lon, hour) for hour in hours}
    with event.timer("cache"):
        cached = _cache_read(list(keys.values()), event)
    found = {hour: HourWeather(*cached[key]) for hour, key in keys.items() if key in cached}
    missing = [hour for hour in hours if hour not in found]
    event.set("external", hours_requested=len(hours), hours_from_cache=len(found), cache_hit=not missing)
    if not missing:
        event.set("external", attempts=0)
        return Lookup(found, 0, round((time.perf_counter() - started) * 1000.0, 3), True, None)

    endpoint, url = _endpoint(min(missing), now)
    params = {
        "latitude": f"{lat:.4f}", "longitude": f"{lon:.4f}", "hourly": ",".join(HOURLY_VARIABLES),
        "timezone": "GMT", "start_date": f"{min(missing):%Y-%m-%d}", "end_date": f"{max(missing):%Y-%m-%d}",
    }
    with event.timer("http"):
        fetched = weather_fetch(url=url, params=params)
    last = fetched.attempts[-1]
    event.set(
        "external", endpoint=endpoint, attempts=len(fetched.attempts), status_code=last.status_code,
        response_bytes=sum(a.response_bytes for a in fetched.attempts), gave_up=fetched.gave_up,
        attempt_log=[{k: v for k, v in asdict(a).items() if v is not None} for a in fetched.attempts],
    )
    if fetched.hours is not None:
        # Hours still to come are forecasts that will change: only settled hours are cached.
        settled = {cache_key(lat, lon, h): (w.temp_f, w.precipitation_in, w.wind_mph, w.weather_code)
                   for h, w in fetched.hours.items() if h <= now}
        with event.timer("cache"):
            _cache_write(settled, event)
        found.update((h, fetched.hours[h]) for h in missing if h in fetched.hours)
        event.set("external", hours_answered=sum(1 for h in missing if h in fetched.hours))
    elif fetched.error_code:
        event.add_error(fetched.error_code, fetched.error)
    return Lookup(found, len(fetched.attempts), round((time.perf_counter() - started) * 1000.0, 3), False,
                  fetched.error_code)


def weather_lookup(*, latitude: float, longitude: float, hours: list[datetime],
                   now: datetime | None = None) -> Lookup:
    """Weather at (latitude, longitude) for the given UTC hours; one boundary event, never raises.

    The position is snapped to the cache grid before anything else, so neither the
    request nor the cache key carries a finer position than `WEATHER_GRID_DEGREES`.
    """
    caller = current_event()
    event = event_open(operation=OPERATION, kind="external_call", trace_id=caller.trace_id or None)
    event.set("caller", operation=caller.operation, request_id=caller.request_id)
    event.set("external", service="open-meteo", cache_hit=False, attempts=0)
    lat, lon = location_round(latitude, longitude, settings.WEATHER_GRID_DEGREES)
    started = time.perf_counter()
    try:
        return _lookup(event, lat, lon, sorted(set(hours)), now or datetime.now(UTC))
    except Exception as exc:  # the boundary reports, it does not break its caller
        logger.exception("weather lookup failed")
        code = event.add_error(exc)
        return Lookup({}, int(event.get("external", "attempts", 0)),
                      round((time.perf_counter() - started) * 1000.0, 3), False, code.code)
    finally:
        event_emit(event)
