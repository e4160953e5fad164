from __future__ import annotations

from django.db import models

from telemetry.soc import USABLE_BATTERY_SHARE
from telemetry.tokens import token_generate, token_hash

# 2nd-generation Volt (2016-2019); 1st generation: 9.3 gal and 16-17.1 kWh.
DEFAULT_TANK_GALLONS = 8.9
DEFAULT_BATTERY_KWH = 18.4


class Vehicle(models.Model):
    name = models.CharField(max_length=100)
    torque_device_id = models.CharField(
        max_length=64, blank=True, default="",
        help_text="Torque Pro's hashed device id (the `id` parameter), learned on the first upload.",
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    fuel_tank_gallons = models.FloatField("fuel tank", default=DEFAULT_TANK_GALLONS, help_text="US gallons.")
    nominal_battery_kwh = models.FloatField("nominal battery capacity", default=DEFAULT_BATTERY_KWH, help_text="Pack capacity when new, kWh.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def usable_battery_kwh(self) -> float:
        return self.nominal_battery_kwh * USABLE_BATTERY_SHARE

    def token_reset(self) -> str:
        """Give the vehicle a new upload token; returns it (the only time it is seen)."""
        token = token_generate()
        self.token_hash = token_hash(token)
        return token
