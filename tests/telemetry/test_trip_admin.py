"""The trip page: the summary with units first, the chart and route data, the internals folded; read-only."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User

from telemetry.models import Reading, VehicleStats
from tests.factories import staff_make, trip_make

pytestmark = pytest.mark.django_db
START = datetime(2026, 5, 3, 8, 0, tzinfo=UTC)


def test_trip_page_shows_the_summary_with_units_and_the_weather_read_only(client, volt) -> None:
    trip = trip_make(volt.vehicle, START, distance_miles=45.6789, electric_miles=30.756999999999998,
                     gas_miles=14.9219, kwh_per_mile=0.2871234, gas_mpg=41.249, soc_at_gas_entry=17.2345,
                     gas_mode_entered_at=START + timedelta(minutes=20),
                     weather_temp_f=23.4, weather_precipitation_in=0.31, weather_wind_mph=36.0,
                     weather_conditions="heavy_snow", weather_impact_factor=1.62, extreme_weather=True,
                     fuel_window=[[1796274369000.0, 55.33, 12044.09]])
    client.force_login(User.objects.create_superuser("ops", password="x"))
    url = f"/admin/telemetry/trip/{trip.pk}/change/"
    page = client.get(url).content.decode()
    summary = page[page.index('id="trip-summary"'):page.index('id="trip-internals"')]
    for shown in ("45.7 mi", "30.8 mi", "14.9 mi", "0.287 kWh/mi", "41.2 mpg", "17.2 % at 08:20", "(0:30 h)",
                  "heavy snow 23.4 °F, wind 36.0 mph, rain 0.31 in (extreme)"):
        assert shown in summary, shown
    assert "1796274369000" not in summary and "30.756999999999998" not in page
    internals = page[page.index('id="trip-internals"'):]
    assert internals.startswith('id="trip-internals" class="module">')  # a <details>, closed
    assert "[[1796274369000.0, 55.33, 12044.09]]" in internals
    assert 'name="weather_conditions"' not in page  # no input: read-only
    response = client.post(url, {"weather_conditions": "clear"})
    assert response.status_code == 403
    trip.refresh_from_db()
    assert trip.weather_conditions == "heavy_snow"
    listing = client.get("/admin/telemetry/trip/?extreme_weather__exact=1").content.decode()
    assert url in listing and "by extreme weather" in listing.lower()  # the filter
    assert ">KWh/mi<" in listing and ">MPG<" in listing and ">0.287<" in listing and ">41.2<" in listing
    assert ">2026-05-03 08:00<" in listing and ">0:30<" in listing and ">23.4<" in listing
    assert url not in client.get("/admin/telemetry/trip/?extreme_weather__exact=0").content.decode()


def test_times_read_in_the_sites_zone_one_way_on_every_page(client, volt, settings) -> None:
    settings.TIME_ZONE = "America/Los_Angeles"  # stored and evented in UTC; shown in the owner's zone
    trip = trip_make(volt.vehicle, START)
    client.force_login(User.objects.create_superuser("ops", password="x"))
    page = client.get(f"/admin/telemetry/trip/{trip.pk}/change/").content.decode()
    assert "Sun 3 May 2026, 01:00 – 01:30 PDT" in page  # 08:00 UTC, the zone named
    assert '<meta name="vt-time-zone" content="America/Los_Angeles">' in page  # the chart's axis follows it
    assert ">2026-05-03 01:00<" in client.get("/admin/telemetry/trip/").content.decode()
    stats = VehicleStats.objects.create(vehicle=volt.vehicle, total_trips=1, refreshed_at=START)
    stats_page = client.get(f"/admin/telemetry/vehiclestats/{stats.pk}/change/").content.decode()
    assert "Sun 3 May 2026, 01:00" in stats_page and "a.m." not in stats_page  # not the locale's "1 a.m."


def test_trip_page_carries_the_chart_series_the_gas_switch_and_the_track(client, volt) -> None:
    gas_at = START + timedelta(minutes=2)
    trip = trip_make(volt.vehicle, START, gas_mode_entered_at=gas_at, soc_source="k22005b")
    for minute, (soc, lat) in enumerate(((80.123, 42.331234567), (60.0, None), (20.0, 42.34))):
        Reading.objects.create(vehicle=volt.vehicle, trip=trip, session=trip.session,
                               recorded_at=START + timedelta(minutes=minute), soc_pct=soc, soc_raw_pct=99.0,
                               speed_mph=40.04, hv_power_kw=12.3456, engine_rpm=1450.4 if minute == 2 else 0.0,
                               latitude=lat, longitude=-83.05 if lat else None)
    client.force_login(User.objects.create_superuser("ops", password="x"))
    page = client.get(f"/admin/telemetry/trip/{trip.pk}/change/").content.decode()
    found = re.search(r'<script id="trip-data" type="application/json">(.*?)</script>', page, re.S)
    assert found, page[:500]
    data = json.loads(found[1])
    t0 = START.timestamp()
    assert data["t"] == [t0, t0 + 60, t0 + 120] and data["gas_at"] == t0 + 120
    assert data["soc"] == [80.1, 60.0, 20.0]  # k22005b, the trip's source, rounded
    assert (data["speed"], data["power"], data["rpm"]) == ([40.0] * 3, [12.3] * 3, [0.0, 0.0, 1450.0])
    assert data["track"] == [[42.33123, -83.05], [42.34, -83.05]]
    assert "vendor/uplot/uPlot.iife.min.js" in page and "vendor/leaflet/leaflet.js" in page


def test_the_route_needs_the_view_permission_on_readings(client, volt) -> None:
    trip = trip_make(volt.vehicle, START)
    Reading.objects.create(vehicle=volt.vehicle, trip=trip, session=trip.session, recorded_at=START,
                           latitude=42.331, longitude=-83.05)
    client.force_login(staff_make("trips-only", views=("vehicle", "trip")))
    page = client.get(f"/admin/telemetry/trip/{trip.pk}/change/").content.decode()
    assert "42.331" not in page and 'id="trip-route-hidden"' in page and 'id="trip-map"' not in page
    client.force_login(staff_make("with-readings", views=("vehicle", "trip", "reading")))
    page = client.get(f"/admin/telemetry/trip/{trip.pk}/change/").content.decode()
    assert "42.331" in page and 'id="trip-map"' in page
