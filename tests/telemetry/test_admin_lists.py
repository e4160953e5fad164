"""The admin shows figures rounded to what they measure, with units, and lists still sort by the stored value."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.db.models import FloatField
from django.utils import timezone

from telemetry.admin_display import ReadOnlyAdmin
from telemetry.models import ChargingSession, VehicleStats
from telemetry.units import FIGURES

pytestmark = pytest.mark.django_db


def test_the_stats_list_rounds_and_sorts_by_the_stored_value(client, new_vehicle) -> None:
    for name, share, kwh in (("Daily", 0.6767405831618378, 0.28134567), ("Weekend", 0.25, None)):
        VehicleStats.objects.create(vehicle=new_vehicle(name).vehicle, total_trips=30, total_miles=1234.5678,
                                    electric_share=share, avg_kwh_per_mile=kwh, refreshed_at=timezone.now())
    client.force_login(User.objects.create_superuser("ops", password="x"))
    page = client.get("/admin/telemetry/vehiclestats/").content.decode()
    assert ">67.7<" in page and "0.6767405831618378" not in page  # a share as a percentage
    assert ">0.281<" in page and "0.28134567" not in page
    assert ">1,234.6<" in page and "1234.5678" not in page
    assert ">Electric share (%)<" in page and ">Average efficiency (kWh/mi)<" in page  # the unit in the header
    # Column 3 is electric_share: ascending, then descending, by the stored value.
    ascending = client.get("/admin/telemetry/vehiclestats/?o=3").content.decode()
    descending = client.get("/admin/telemetry/vehiclestats/?o=-3").content.decode()
    assert ascending.index("Weekend") < ascending.index("Daily")
    assert descending.index("Daily") < descending.index("Weekend")


def test_a_change_page_shows_figures_with_units(client, volt) -> None:
    now = timezone.now()
    charge = ChargingSession.objects.create(
        vehicle=volt.vehicle, started_at=now, ended_at=now, last_reading_at=now, last_received_at=now,
        start_soc=20.123456, end_soc=88.98765, kwh_added=9.876543, peak_power_kw=3.3333333, avg_power_kw=3.21,
        power_curve=[[0, 3.3], [600, 3.25]])
    client.force_login(User.objects.create_superuser("ops", password="x"))
    page = client.get(f"/admin/telemetry/chargingsession/{charge.pk}/change/").content.decode()
    for shown in ("20.1 %", "89.0 %", "9.88 kWh", "3.3 kW", "3.2 kW"):
        assert f">{shown}<" in page, shown
    assert "9.876543" not in page and "20.123456" not in page


def test_an_empty_figure_on_a_change_page_shows_the_empty_mark_not_none(client, volt) -> None:
    stats = VehicleStats.objects.create(vehicle=volt.vehicle, total_trips=0, refreshed_at=timezone.now())
    client.force_login(User.objects.create_superuser("ops", password="x"))
    page = client.get(f"/admin/telemetry/vehiclestats/{stats.pk}/change/").content.decode()
    assert ">Last tank mileage:<" in page
    assert '<div class="readonly">None</div>' not in page
    assert page.count('<div class="readonly">-</div>') >= 5  # tank mileages, capacity, degradation, ...


def test_every_float_field_of_a_read_only_admin_has_a_unit() -> None:
    checked = 0
    for model, model_admin in admin.site._registry.items():  # the registry has no public reader
        if not isinstance(model_admin, ReadOnlyAdmin):
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, FloatField) and field.name not in ("latitude", "longitude", "charger_status"):
                assert field.name in FIGURES, (model.__name__, field.name)
                checked += 1
    assert checked >= 50  # trips, readings, charging, refuels, statistics, battery samples
