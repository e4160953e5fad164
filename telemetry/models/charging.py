from __future__ import annotations

from django.db import models
from django.utils.timezone import localtime

from telemetry.charging_core import FIRST_CURVE_STRIDE_S
from telemetry.models.vehicles import Vehicle


class ChargingSession(models.Model):
    """One charge of one vehicle, built reading by reading from the uploads (docs/charging.md)."""

    LEVELS = [("L1", "Level 1"), ("L2", "Level 2"), ("DCFC", "DC fast charge")]

    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="charging_sessions")
    started_at = models.DateTimeField(help_text="First charging reading, by the phone's clock.")
    ended_at = models.DateTimeField(help_text="Last charging reading so far.")
    last_reading_at = models.DateTimeField(help_text="Newest reading applied (charging or paused).")
    last_received_at = models.DateTimeField(
        help_text="Server time of the newest charging upload; staleness is judged on it."
    )
    last_power_kw = models.FloatField("last power", null=True, blank=True, help_text="Empty while the charge is paused.")
    start_soc = models.FloatField("SOC at start", null=True, blank=True)
    end_soc = models.FloatField("SOC at end", null=True, blank=True)
    kwh_integrated = models.FloatField("energy integrated", default=0.0)
    charging_seconds = models.FloatField("time charging", default=0.0)
    kwh_added = models.FloatField("energy added", null=True, blank=True)
    kwh_source = models.CharField("energy measured by", max_length=16, blank=True, default="")
    peak_power_kw = models.FloatField("peak power", null=True, blank=True)
    avg_power_kw = models.FloatField("average power", null=True, blank=True)
    level = models.CharField(max_length=4, choices=LEVELS, blank=True, default="")
    latitude = models.FloatField(null=True, blank=True, help_text="Rounded to about 100 m.")
    longitude = models.FloatField(null=True, blank=True, help_text="Rounded to about 100 m.")
    power_curve = models.JSONField(default=list, blank=True, help_text="[[seconds from start, kW], ...], bounded.")
    curve_stride_s = models.PositiveIntegerField(default=FIRST_CURVE_STRIDE_S)
    reading_count = models.PositiveIntegerField(default=0)
    is_complete = models.BooleanField(default=False)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        constraints = [
            # A session is stored once: retried or racing uploads cannot open a second one.
            models.UniqueConstraint(fields=["vehicle", "started_at"], name="charging_session_unique_start"),
            models.UniqueConstraint(fields=["vehicle"], condition=models.Q(is_complete=False),
                                    name="charging_session_one_open_per_vehicle"),
        ]
        indexes = [
            models.Index(fields=["last_received_at"], condition=models.Q(is_complete=False),
                         name="charging_open_by_received"),
            models.Index(fields=["vehicle", "-started_at"], name="charging_vehicle_started"),
        ]
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.vehicle_id} charge {localtime(self.started_at):%Y-%m-%d %H:%M}"


class Refuel(models.Model):
    """A rise of the fuel level: the tank was filled (docs/charging.md, "Refuels")."""

    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="refuels")
    trip = models.ForeignKey("telemetry.Trip", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    detected_at = models.DateTimeField(help_text="First reading at the new level.")
    odometer_miles = models.FloatField("odometer", null=True, blank=True)
    level_before = models.FloatField()
    level_after = models.FloatField()
    gallons_added = models.FloatField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["vehicle", "detected_at"], name="refuel_unique_per_time")]
        indexes = [models.Index(fields=["vehicle", "-detected_at"], name="refuel_vehicle_detected")]
        ordering = ["-detected_at"]

    def __str__(self) -> str:
        return f"{self.vehicle_id} refuel {localtime(self.detected_at):%Y-%m-%d %H:%M}"
