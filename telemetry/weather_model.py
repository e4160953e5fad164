"""Weather, pure: Open-Meteo response parsing, WMO conditions, trip impact, retry decisions.

No I/O and no ORM: `telemetry/weather.py` does the HTTP and the cache around these.
Units: Open-Meteo answers in its defaults (°C, mm, km/h); we convert once, here,
to the US units VoltTracker stores (°F, inches, mph; docs/units.md).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import orjson

HOURLY_VARIABLES = ("temperature_2m", "precipitation", "wind_speed_10m", "weather_code")
MM_PER_INCH = 25.4
KMH_PER_MPH = 1.609344


class WeatherResponseError(ValueError):
    """The API answered 200 with a body we cannot use (E102)."""


@dataclass(frozen=True, slots=True)
class HourWeather:
    """One UTC hour at one place, in stored units; None where the API had no value."""

    temp_f: float | None
    precipitation_in: float | None
    wind_mph: float | None
    weather_code: int | None

    def is_empty(self) -> bool:
        return self.temp_f is None and self.precipitation_in is None and self.wind_mph is None \
            and self.weather_code is None


@dataclass(frozen=True, slots=True)
class TripWeather:
    temp_f: float | None
    precipitation_in: float | None
    wind_mph: float | None
    conditions: str
    impact_factor: float
    extreme: bool
    samples: int


# --- locations and hours ----------------------------------------------------------------------

def location_round(lat: float, lon: float, grid_degrees: float) -> tuple[float, float]:
    """Snap a position to the cache grid (0.1° is ~11 km north-south: a forecast-model cell)."""
    steps = 1.0 / grid_degrees
    return round(round(lat * steps) / steps, 4), round(round(lon * steps) / steps, 4)


def hour_nearest(at: datetime) -> datetime:
    """The UTC hour whose value describes `at`: Open-Meteo's hourly values sit on the hour."""
    at = at.astimezone(UTC)
    floor = at.replace(minute=0, second=0, microsecond=0)
    return floor + timedelta(hours=1) if at - floor >= timedelta(minutes=30) else floor


def sample_points(points: Sequence[tuple[datetime, float | None, float | None]], every: timedelta
                  ) -> list[tuple[datetime, float, float]]:
    """The positioned readings to look weather up for: one per `every` from the first, plus the last.

    `points` are (recorded_at, latitude, longitude) in time order; readings without a
    position are skipped, so a sample is the first positioned reading of its slot.
    """
    positioned = [(at, lat, lon) for at, lat, lon in points if lat is not None and lon is not None]
    if not positioned:
        return []
    chosen: list[tuple[datetime, float, float]] = []
    next_due = positioned[0][0]
    for point in positioned:
        if point[0] >= next_due:
            chosen.append(point)
            next_due = point[0] + every
    if chosen[-1] is not positioned[-1]:
        chosen.append(positioned[-1])
    return chosen


# --- parsing --------------------------------------------------------------------------------------

def _number(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise WeatherResponseError(f"hourly.{name} holds a non-number")
    return float(value)


def hourly_parse(body: bytes) -> dict[datetime, HourWeather]:
    """The hours of an Open-Meteo answer (requested with `timezone=GMT`), keyed by aware UTC hour."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise WeatherResponseError(f"not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("hourly"), dict):
        raise WeatherResponseError("no `hourly` object")
    if data.get("utc_offset_seconds", 0) != 0:
        raise WeatherResponseError("hours are not in UTC")
    hourly = data["hourly"]
    times = hourly.get("time")
    if not isinstance(times, list):
        raise WeatherResponseError("no `hourly.time` list")
    columns: dict[str, list[Any]] = {}
    for name in HOURLY_VARIABLES:
        column = hourly.get(name)
        if not isinstance(column, list) or len(column) != len(times):
            raise WeatherResponseError(f"`hourly.{name}` missing or of the wrong length")
        columns[name] = column
    hours: dict[datetime, HourWeather] = {}
    for i, stamp in enumerate(times):
        try:
            hour = datetime.fromisoformat(stamp).replace(tzinfo=UTC)
        except (TypeError, ValueError):
            # Not the value itself: it comes from the peer, which may echo anything back (our query).
            raise WeatherResponseError(f"bad time at hour {i} ({type(stamp).__name__})") from None
        temp_c = _number(columns["temperature_2m"][i], "temperature_2m")
        precip_mm = _number(columns["precipitation"][i], "precipitation")
        wind_kmh = _number(columns["wind_speed_10m"][i], "wind_speed_10m")
        code = _number(columns["weather_code"][i], "weather_code")
        hours[hour] = HourWeather(
            temp_f=None if temp_c is None else round(temp_c * 9 / 5 + 32, 2),
            precipitation_in=None if precip_mm is None else round(precip_mm / MM_PER_INCH, 4),
            wind_mph=None if wind_kmh is None else round(wind_kmh / KMH_PER_MPH, 2),
            weather_code=None if code is None else int(code),
        )
    return hours


# --- conditions, impact, extremes -----------------------------------------------------------------

# WMO 4677 codes as Open-Meteo uses them, with a severity rank: a trip shows its worst hour.
_CONDITIONS: dict[int, tuple[str, int]] = {
    0: ("clear", 0), 1: ("mainly_clear", 1), 2: ("partly_cloudy", 2), 3: ("overcast", 3),
    45: ("fog", 4), 48: ("freezing_fog", 6),
    51: ("drizzle", 5), 53: ("drizzle", 5), 55: ("drizzle", 6),
    56: ("freezing_drizzle", 8), 57: ("freezing_drizzle", 9),
    61: ("rain", 6), 63: ("rain", 7), 65: ("heavy_rain", 9),
    66: ("freezing_rain", 10), 67: ("freezing_rain", 11),
    71: ("snow", 8), 73: ("snow", 9), 75: ("heavy_snow", 11), 77: ("snow_grains", 8),
    80: ("rain_showers", 6), 81: ("rain_showers", 7), 82: ("violent_rain_showers", 10),
    85: ("snow_showers", 9), 86: ("heavy_snow_showers", 11),
    95: ("thunderstorm", 10), 96: ("thunderstorm_hail", 12), 99: ("thunderstorm_hail", 12),
}
EXTREME_CODES = frozenset({57, 65, 66, 67, 75, 82, 86, 95, 96, 99})
SNOW_CODES = frozenset({71, 73, 75, 77, 85, 86})
FREEZING_CODES = frozenset({48, 56, 57, 66, 67})


def condition_for(code: int | None) -> str:
    if code is None:
        return ""
    return _CONDITIONS.get(code, ("unknown", -1))[0]


def _severity(code: int) -> int:
    return _CONDITIONS.get(code, ("unknown", -1))[1]


def impact_factor(*, temp_f: float | None, precipitation_in: float | None, wind_mph: float | None,
                  weather_code: int | None) -> float:
    """Expected energy use relative to a mild, dry, calm drive (1.0); 1.3 means 30 % more kWh/mile.

    A heuristic from published EV cold/heat range studies, not a fit to this car:
    cabin and battery heating below 65 °F (+1.2 %/°F, at most +60 %), air
    conditioning above 75 °F (+0.8 %/°F, at most +25 %), wet roads (+5 %, +10 %
    from 0.1 in/h), snow or ice on the road (+10 %), head/cross wind above 10 mph
    (+0.5 %/mph, at most +15 %).
    """
    factor = 1.0
    if temp_f is not None:
        if temp_f < 65.0:
            factor += min((65.0 - temp_f) * 0.012, 0.60)
        elif temp_f > 75.0:
            factor += min((temp_f - 75.0) * 0.008, 0.25)
    if precipitation_in is not None and precipitation_in > 0.01:
        factor += 0.10 if precipitation_in >= 0.1 else 0.05
    if weather_code is not None and weather_code in SNOW_CODES | FREEZING_CODES:
        factor += 0.10
    if wind_mph is not None and wind_mph > 10.0:
        factor += min((wind_mph - 10.0) * 0.005, 0.15)
    return round(factor, 3)


def is_extreme(*, temp_f: float | None, precipitation_in: float | None, wind_mph: float | None,
               weather_code: int | None) -> bool:
    """Weather that changes how (or whether) one should drive: deep cold, heat, storms, ice."""
    return (
        (temp_f is not None and (temp_f <= 10.0 or temp_f >= 100.0))
        or (precipitation_in is not None and precipitation_in >= 0.3)
        or (wind_mph is not None and wind_mph >= 35.0)
        or (weather_code is not None and weather_code in EXTREME_CODES)
    )


def trip_weather_summarize(hours: Iterable[HourWeather]) -> TripWeather | None:
    """One trip's weather from its samples: mean temperature, the wettest, windiest and worst hour."""
    samples = [h for h in hours if not h.is_empty()]
    if not samples:
        return None
    temps = [h.temp_f for h in samples if h.temp_f is not None]
    precips = [h.precipitation_in for h in samples if h.precipitation_in is not None]
    winds = [h.wind_mph for h in samples if h.wind_mph is not None]
    codes = [h.weather_code for h in samples if h.weather_code is not None]
    temp = round(sum(temps) / len(temps), 1) if temps else None
    precip = max(precips) if precips else None
    wind = max(winds) if winds else None
    worst = max(codes, key=_severity) if codes else None
    return TripWeather(
        temp_f=temp,
        precipitation_in=precip,
        wind_mph=wind,
        conditions=condition_for(worst),
        impact_factor=impact_factor(temp_f=temp, precipitation_in=precip, wind_mph=wind, weather_code=worst),
        extreme=any(is_extreme(temp_f=h.temp_f, precipitation_in=h.precipitation_in, wind_mph=h.wind_mph,
                               weather_code=h.weather_code) for h in samples),
        samples=len(samples),
    )


# --- retries --------------------------------------------------------------------------------------

def backoff_delays(*, attempts: int, base_s: float, max_s: float) -> list[float]:
    """Waits before attempts 2..n: base, 2·base, 4·base, ... each capped at `max_s`."""
    return [min(base_s * 2**i, max_s) for i in range(max(attempts - 1, 0))]


def retry_after_seconds(value: str | None, *, now: datetime) -> float | None:
    """`Retry-After` as seconds from `now`: delta-seconds or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


def status_retriable(status: int) -> bool:
    """Server errors and 429 may pass; any other 4xx is our request's fault and will not."""
    return status == 429 or status >= 500


def status_error_code(status: int) -> str:
    return "E103" if status == 429 else "E102"
