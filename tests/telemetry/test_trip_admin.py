"""The trip admin shows the weather, read-only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User

from tests.factories import trip_make

pytestmark = pytest.mark.django_db
START = datetime(2026, 5, 3, 8, 0, tzinfo=UTC)


def test_trip_page_shows_the_weather_read_only(client, volt) -> None:
    trip = trip_make(volt.vehicle, START, distance_miles=12.5, weather_temp_f=23.4, weather_precipitation_in=0.31,
                     weather_wind_mph=36.0, weather_conditions="heavy_snow", weather_impact_factor=1.62,
                     extreme_weather=True)
    client.force_login(User.objects.create_superuser("ops", password="x"))
    url = f"/admin/telemetry/trip/{trip.pk}/change/"
    page = client.get(url).content.decode()
    assert "Weather (docs/weather.md" in page
    for shown in ("23.4", "0.31", "36.0", "heavy_snow", "1.62", "12.5"):
        assert shown in page
    assert 'name="weather_conditions"' not in page  # no input: read-only
    response = client.post(url, {"weather_conditions": "clear"})
    assert response.status_code == 403
    trip.refresh_from_db()
    assert trip.weather_conditions == "heavy_snow"
    listing = client.get("/admin/telemetry/trip/?extreme_weather__exact=1").content.decode()
    assert "heavy_snow" in listing and "by extreme weather" in listing.lower()  # the filter
    assert "heavy_snow" not in client.get("/admin/telemetry/trip/?extreme_weather__exact=0").content.decode()
