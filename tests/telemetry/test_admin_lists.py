"""The admin's lists show numbers rounded to what they measure, and still sort by the stored value."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.db.models import FloatField
from django.utils import timezone

from telemetry.admin import ReadOnlyAdmin
from telemetry.models import VehicleStats

pytestmark = pytest.mark.django_db


def test_the_stats_list_rounds_and_sorts_by_the_stored_value(client, new_vehicle) -> None:
    for name, share, kwh in (("Daily", 0.6767405831618378, 0.28134567), ("Weekend", 0.25, None)):
        VehicleStats.objects.create(vehicle=new_vehicle(name).vehicle, total_trips=30, total_miles=1234.5678,
                                    electric_share=share, avg_kwh_per_mile=kwh, refreshed_at=timezone.now())
    client.force_login(User.objects.create_superuser("ops", password="x"))
    page = client.get("/admin/telemetry/vehiclestats/").content.decode()
    assert "0.677" in page and "0.6767405831618378" not in page
    assert "0.281" in page and "0.28134567" not in page
    assert "1,234.6" in page and "1234.5678" not in page
    assert ">Electric share<" in page  # the column keeps the field's name
    # Column 3 is electric_share: ascending, then descending, by the stored value.
    ascending = client.get("/admin/telemetry/vehiclestats/?o=3").content.decode()
    descending = client.get("/admin/telemetry/vehiclestats/?o=-3").content.decode()
    assert ascending.index("Weekend") < ascending.index("Daily")
    assert descending.index("Daily") < descending.index("Weekend")


def test_every_rounded_column_is_a_float_field_in_its_list() -> None:
    checked = 0
    for model, model_admin in admin.site._registry.items():  # the registry has no public reader
        if not isinstance(model_admin, ReadOnlyAdmin):
            continue
        for name in model_admin.list_decimals:
            assert isinstance(model._meta.get_field(name), FloatField), (model.__name__, name)
            assert name in model_admin.list_display, (model.__name__, name)
            checked += 1
    assert checked >= 25  # trips, readings, charging, refuels, statistics, battery samples
