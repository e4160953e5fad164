"""The pure side of weather: parsing, units, conditions, impact, retry decisions, sampling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from telemetry.weather_model import (
    HourWeather, WeatherResponseError, backoff_delays, condition_for, hour_nearest, hourly_parse, impact_factor,
    is_extreme, location_round, retry_after_seconds, sample_points, status_error_code, status_retriable,
    trip_weather_summarize,
)

T0 = datetime(2026, 1, 15, 7, 0, tzinfo=UTC)


def _body(**overrides: object) -> bytes:
    hourly = {"time": ["2026-01-15T07:00", "2026-01-15T08:00"], "temperature_2m": [-10.0, None],
              "precipitation": [0.0, 12.7], "wind_speed_10m": [16.09344, 0], "weather_code": [71, 65]}
    hourly.update(overrides)
    return orjson.dumps({"utc_offset_seconds": 0, "timezone": "GMT", "hourly": hourly})


def test_hourly_parse_converts_to_stored_units_and_keys_by_utc_hour() -> None:
    hours = hourly_parse(_body())
    assert hours == {
        T0: HourWeather(temp_f=14.0, precipitation_in=0.0, wind_mph=10.0, weather_code=71),
        T0 + timedelta(hours=1): HourWeather(temp_f=None, precipitation_in=0.5, wind_mph=0.0, weather_code=65),
    }


@pytest.mark.parametrize("body", [
    b"{not json", b"[]", b'{"hourly": 3}', orjson.dumps({"utc_offset_seconds": 3600, "hourly": {}}),
    _body(temperature_2m=[1.0]), _body(weather_code=["x", 1]), _body(time=["yesterday", "today"]),
    _body(precipitation=[True, 0.0]),
], ids=["not-json", "list", "hourly-not-object", "not-utc", "short-column", "string-value", "bad-time", "bool"])
def test_unusable_bodies_are_refused(body: bytes) -> None:
    with pytest.raises(WeatherResponseError):
        hourly_parse(body)


def test_a_refused_body_is_not_quoted_back() -> None:
    """The peer may echo anything, our own query (the trip's position on the grid) included."""
    echo = "GET /v1/forecast?latitude=47.6000&longitude=-122.3000"
    with pytest.raises(WeatherResponseError) as refused:
        hourly_parse(_body(time=[echo, echo]))
    assert str(refused.value) == "bad time at hour 0 (str)"


def test_conditions_from_wmo_codes() -> None:
    assert [condition_for(c) for c in (0, 3, 45, 56, 63, 75, 82, 95, 99, 42, None)] == [
        "clear", "overcast", "fog", "freezing_drizzle", "rain", "heavy_snow", "violent_rain_showers",
        "thunderstorm", "thunderstorm_hail", "unknown", ""]


def test_impact_factor_is_one_in_mild_weather_and_grows_with_cold_heat_wet_and_wind() -> None:
    assert impact_factor(temp_f=70, precipitation_in=0, wind_mph=5, weather_code=0) == 1.0
    assert impact_factor(temp_f=15, precipitation_in=0, wind_mph=0, weather_code=0) == 1.6  # cold, capped
    assert impact_factor(temp_f=-20, precipitation_in=0, wind_mph=0, weather_code=0) == 1.6
    assert impact_factor(temp_f=95, precipitation_in=None, wind_mph=None, weather_code=None) == 1.16
    assert impact_factor(temp_f=30, precipitation_in=0.2, wind_mph=25, weather_code=73) == pytest.approx(
        1 + 35 * 0.012 + 0.10 + 0.10 + 15 * 0.005)
    assert impact_factor(temp_f=None, precipitation_in=None, wind_mph=None, weather_code=None) == 1.0


def test_extreme_weather_flag() -> None:
    mild: dict[str, Any] = {"temp_f": 60.0, "precipitation_in": 0.0, "wind_mph": 5.0, "weather_code": 2}
    assert is_extreme(**mild) is False
    for change in ({"temp_f": 5.0}, {"temp_f": 101.0}, {"precipitation_in": 0.4}, {"wind_mph": 40.0},
                   {"weather_code": 95}, {"weather_code": 66}):
        assert is_extreme(**{**mild, **change}) is True, change


def test_trip_summary_takes_mean_temperature_and_worst_hour() -> None:
    hours = [HourWeather(40.0, 0.0, 5.0, 3), HourWeather(30.0, 0.05, 12.0, 71), HourWeather(None, None, None, None)]
    weather = trip_weather_summarize(hours)
    assert weather is not None
    assert (weather.temp_f, weather.precipitation_in, weather.wind_mph, weather.conditions, weather.samples) == (
        35.0, 0.05, 12.0, "snow", 2)
    assert weather.impact_factor == pytest.approx(1 + 30 * 0.012 + 0.05 + 0.10 + 2 * 0.005)
    assert weather.extreme is False
    assert trip_weather_summarize([HourWeather(None, None, None, None)]) is None


def test_backoff_doubles_up_to_the_cap() -> None:
    assert backoff_delays(attempts=5, base_s=0.5, max_s=3.0) == [0.5, 1.0, 2.0, 3.0]
    assert backoff_delays(attempts=1, base_s=0.5, max_s=3.0) == []


def test_retry_after_as_seconds_or_http_date() -> None:
    now = datetime(2026, 1, 15, 7, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("12", now=now) == 12.0
    assert retry_after_seconds("Thu, 15 Jan 2026 07:00:30 GMT", now=now) == 30.0
    assert retry_after_seconds("Thu, 15 Jan 2026 06:00:00 GMT", now=now) == 0.0
    assert retry_after_seconds("soon", now=now) is None
    assert retry_after_seconds(None, now=now) is None


def test_only_429_and_5xx_are_retried() -> None:
    assert [status_retriable(s) for s in (400, 404, 429, 500, 503)] == [False, False, True, True, True]
    assert [status_error_code(s) for s in (404, 429, 500)] == ["E102", "E103", "E102"]


def test_samples_every_15_minutes_plus_the_end_skipping_readings_without_position() -> None:
    points: list[tuple[datetime, float | None, float | None]] = [(T0 + timedelta(minutes=m), 42.0, -83.0)
                                                                 for m in range(0, 50, 5)]
    points.insert(1, (T0 + timedelta(minutes=1), None, None))
    chosen = [at for at, _, _ in sample_points(points, timedelta(minutes=15))]
    assert [int((at - T0).total_seconds() // 60) for at in chosen] == [0, 15, 30, 45]
    points.append((T0 + timedelta(minutes=52), 42.1, -83.1))
    assert [int((at - T0).total_seconds() // 60) for at, _, _ in sample_points(points, timedelta(minutes=15))] == [
        0, 15, 30, 45, 52]
    assert sample_points([(T0, None, None)], timedelta(minutes=15)) == []


def test_hours_match_to_the_nearest_utc_hour_and_places_to_the_grid() -> None:
    assert hour_nearest(T0 + timedelta(minutes=29)) == T0
    assert hour_nearest(T0 + timedelta(minutes=30)) == T0 + timedelta(hours=1)
    assert hour_nearest(datetime(2026, 1, 15, 2, 40, tzinfo=UTC).astimezone(UTC)) == datetime(2026, 1, 15, 3, 0, tzinfo=UTC)
    assert location_round(42.3456, -83.0449, 0.1) == (42.3, -83.0)
    assert location_round(42.36, -83.06, 0.1) == (42.4, -83.1)
    assert location_round(42.36, -83.06, 0.25) == (42.25, -83.0)
