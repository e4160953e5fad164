"""Trip weather through a real HTTP server on 127.0.0.1: retries, errors, cache and events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from logging_policy.current import event_bound
from logging_policy.emit import event_emit, event_open
from telemetry.drive_sim import DrivePlan, drive_readings
from telemetry.models import Trip
from telemetry.tasks import trip_weather_task
from telemetry.trips import trip_finalize
from tests.weather_server import WeatherServer, clean_weather_cache, weather_server  # noqa: F401 - fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_weather_cache")]
TRACE = "0af7651916cd43dd8448eb211c80319c"


def _start(days_ago: int = 0) -> datetime:
    """Earlier today (or `days_ago`), on a quarter past the hour, well clear of the hour's rounding."""
    base = datetime.now(UTC).replace(minute=15, second=0, microsecond=0) - timedelta(hours=3, days=days_ago)
    return base


def _finished_trip(volt: Any, upload: Any, session: str, start: datetime, odometer: float = 12_000.0) -> Trip:
    for params in drive_readings(DrivePlan(session=session, start=start, electric_miles=1, gas_miles=0,
                                           start_odometer_miles=odometer)):
        assert upload(volt.token, params).content == b"OK!"
    trip = Trip.objects.get(session=session)
    trip_finalize(trip_id=trip.pk)
    return trip


def _run_task(trip_id: int) -> None:
    """The task run inside its own task event, as the worker runs it."""
    event = event_open(operation="trip_weather", kind="task", trace_id=TRACE)
    with event_bound(event):
        trip_weather_task(trip_id)
    event_emit(event)


def _events(wide_events: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    events = [e for e in wide_events.events if e["trace_id"] == TRACE]
    boundary = [e for e in events if e["operation"] == "external_api.weather"]
    [task] = [e for e in events if e["operation"] == "trip_weather"]
    assert all(e["kind"] == "external_call" and e["sampling"]["rate"] == 1.0 for e in boundary)
    return boundary, task


CASES = [
    # script, attempts, error code, stored, per-attempt error codes
    pytest.param(["ok"], 1, None, True, [None], id="ok"),
    pytest.param([("status", 500), ("status", 503), "ok"], 3, None, True, ["E102", "E102", None], id="500s-then-ok"),
    pytest.param([("status", 500)], 3, "E102", False, ["E102"] * 3, id="500s"),
    pytest.param([("slow", 0.6)], 3, "E100", False, ["E100"] * 3, id="slow"),
    pytest.param(["close"], 3, "E101", False, ["E101"] * 3, id="connection-closed"),
    pytest.param(["malformed"], 1, "E102", False, ["E102"], id="malformed-json"),
    pytest.param([("status", 404)], 1, "E102", False, ["E102"], id="404-not-retried"),
    pytest.param([("429", 60)], 1, "E103", False, ["E103"], id="429-retry-after-over-cap"),
]


@pytest.mark.parametrize(("script", "attempts", "code", "stored", "attempt_codes"), CASES)
def test_weather_task_against_a_real_server(volt, upload, weather_server: WeatherServer, wide_events,
                                            script, attempts, code, stored, attempt_codes) -> None:
    trip = _finished_trip(volt, upload, "wx-case", _start())
    weather_server.script = list(script)
    _run_task(trip.pk)

    trip.refresh_from_db()
    assert trip.is_closed and trip.finalized_at is not None
    assert trip.distance_miles == pytest.approx(1.0, abs=0.05)
    assert len(weather_server.requests) == attempts
    if stored:
        assert trip.weather_temp_f == pytest.approx(50.0)
        assert trip.weather_precipitation_in == pytest.approx(0.1)
        assert trip.weather_wind_mph == pytest.approx(20.0)
        assert trip.weather_conditions == "overcast"
        assert trip.weather_impact_factor == pytest.approx(1.0 + 15 * 0.012 + 0.10 + 10 * 0.005)
        assert trip.extreme_weather is False
    else:
        assert (trip.weather_temp_f, trip.weather_conditions, trip.extreme_weather) == (None, "", None)

    [boundary], task = _events(wide_events)
    external = boundary["external"]
    assert external["attempts"] == attempts
    assert [a.get("error_code") for a in external["attempt_log"]] == attempt_codes
    assert all(a["latency_ms"] > 0 for a in external["attempt_log"])
    assert external["cache_hit"] is False and external["endpoint"] == "forecast"
    assert boundary["success"] is (code is None)
    assert boundary.get("error", {}).get("code") == code
    assert boundary["caller"]["operation"] == "trip_weather"
    assert task["weather"]["attempts"] == attempts
    assert task["weather"]["error_code"] == code
    assert task["weather"]["cache_hit"] is False
    assert task["weather"]["stored"] is stored
    assert task["weather"]["latency_ms"] >= sum(a["latency_ms"] for a in external["attempt_log"])
    assert task["success"] is True  # a weather failure is a warning on the task, never its failure
    assert [w["code"] for w in task.get("warnings", [])] == ([code] if code else [])


def test_slow_attempts_are_cut_at_the_timeout(volt, upload, weather_server: WeatherServer, wide_events) -> None:
    trip = _finished_trip(volt, upload, "wx-slow", _start())
    weather_server.script = [("slow", 0.6)]
    _run_task(trip.pk)
    [boundary], _ = _events(wide_events)
    latencies = [a["latency_ms"] for a in boundary["external"]["attempt_log"]]
    assert all(200 <= ms < 500 for ms in latencies), latencies
    assert [a["wait_s"] for a in boundary["external"]["attempt_log"][:2]] == [0.01, 0.02]


def test_429_waits_out_retry_after_then_succeeds(volt, upload, weather_server: WeatherServer, wide_events) -> None:
    trip = _finished_trip(volt, upload, "wx-429", _start())
    weather_server.script = [("429", 1), "ok"]
    _run_task(trip.pk)
    trip.refresh_from_db()
    assert trip.weather_conditions == "overcast"
    [boundary], task = _events(wide_events)
    first = boundary["external"]["attempt_log"][0]
    assert (first["status_code"], first["error_code"], first["retry_after_s"], first["wait_s"]) == (429, "E103", 1.0, 1.0)
    assert boundary["duration_ms"] >= 1000
    assert (task["weather"]["attempts"], task["weather"]["error_code"]) == (2, None)


def test_429_persisting_ends_rate_limited(volt, upload, weather_server: WeatherServer, wide_events) -> None:
    trip = _finished_trip(volt, upload, "wx-429s", _start())
    weather_server.script = [("429", 0)]
    _run_task(trip.pk)
    trip.refresh_from_db()
    assert trip.weather_temp_f is None and trip.is_closed
    [boundary], task = _events(wide_events)
    assert (boundary["external"]["attempts"], boundary["external"]["gave_up"]) == (3, "attempts_exhausted")
    assert (boundary["error"]["code"], task["weather"]["error_code"]) == ("E103", "E103")


def test_second_trip_in_the_same_place_and_hour_is_served_from_cache(
    volt, upload, weather_server: WeatherServer, wide_events, django_assert_num_queries
) -> None:
    start = _start()
    first = _finished_trip(volt, upload, "wx-a", start)
    second = _finished_trip(volt, upload, "wx-b", start + timedelta(minutes=5), odometer=12_001.0)
    _run_task(first.pk)
    weather_server.script = ["close"]  # a call now would fail: the cache must answer
    with django_assert_num_queries(3):
        # 1. mark the attempt on the trip if finalized (UPDATE)  2. the trip's reading times and positions  3. UPDATE trip weather
        _run_task(second.pk)
    second.refresh_from_db()
    assert second.weather_conditions == "overcast" and second.weather_temp_f == pytest.approx(50.0)
    assert len(weather_server.requests) == 1
    boundary = [e for e in wide_events.events if e["operation"] == "external_api.weather"]
    tasks = [e for e in wide_events.events if e["operation"] == "trip_weather"]
    assert [b["external"]["cache_hit"] for b in boundary] == [False, True]
    assert boundary[1]["external"]["attempts"] == 0
    assert [(t["weather"]["cache_hit"], t["weather"]["attempts"]) for t in tasks] == [(False, 1), (True, 0)]


def test_old_trips_use_the_archive_and_request_utc_hours(volt, upload, weather_server: WeatherServer,
                                                          wide_events) -> None:
    start = _start(days_ago=30)
    trip = _finished_trip(volt, upload, "wx-old", start)
    _run_task(trip.pk)
    [request] = weather_server.requests
    assert request["path"] == "/v1/archive"
    assert request["query"]["timezone"] == "GMT"
    assert request["query"]["start_date"] == request["query"]["end_date"] == f"{start:%Y-%m-%d}"
    assert (request["query"]["latitude"], request["query"]["longitude"]) == ("42.3000", "-83.0000")
    assert request["query"]["hourly"] == "temperature_2m,precipitation,wind_speed_10m,weather_code"
    [boundary], _ = _events(wide_events)
    assert boundary["external"]["endpoint"] == "archive"
    trip.refresh_from_db()
    assert trip.weather_conditions == "overcast"


def test_trip_without_positions_keeps_empty_weather_and_calls_nothing(volt, upload, weather_server,
                                                                      wide_events) -> None:
    plan = DrivePlan(session="wx-nogps", start=_start(), electric_miles=1, gas_miles=0)
    for params in drive_readings(plan):
        params.pop("kff1006"), params.pop("kff1005")
        upload(volt.token, params)
    trip = Trip.objects.get(session="wx-nogps")
    trip_finalize(trip_id=trip.pk)
    _run_task(trip.pk)
    assert weather_server.requests == []
    boundary, task = _events(wide_events)
    assert boundary == [] and task["weather"] == {"samples": 0, "skipped": "no_position", "stored": False}


def test_finalization_queues_weather_only_with_the_flag(volt, upload, settings, weather_server, wide_events,
                                                        django_capture_on_commit_callbacks) -> None:
    from volttracker.celery import app

    start = _start()
    for i, session in enumerate(("wx-off", "wx-on")):
        for params in drive_readings(DrivePlan(session=session, start=start, electric_miles=1, gas_miles=0,
                                               start_odometer_miles=12_000 + i)):
            upload(volt.token, params)
    settings.FEATURE_FLAGS = {**settings.FEATURE_FLAGS, "weather_integration": False}
    with django_capture_on_commit_callbacks() as off_callbacks:
        trip_finalize(trip_id=Trip.objects.get(session="wx-off").pk)

    settings.FEATURE_FLAGS = {**settings.FEATURE_FLAGS, "weather_integration": True}
    app.conf.task_always_eager = True  # the real task, run in this process by Celery itself
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            trip_finalize(trip_id=Trip.objects.get(session="wx-on").pk)
    finally:
        app.conf.task_always_eager = False
    assert len(callbacks) == len(off_callbacks) + 1  # the weather task, beside the statistics refresh
    on = Trip.objects.get(session="wx-on")
    assert on.is_closed and on.weather_conditions == "overcast"
    assert Trip.objects.get(session="wx-off").weather_conditions == ""
    assert [e["external"]["attempts"] for e in wide_events.events if e["operation"] == "external_api.weather"] == [1]
