from __future__ import annotations

from django.db import models

from telemetry.models.vehicles import Vehicle


class Reading(models.Model):
    """One Torque Pro data upload, in stored units (docs/units.md)."""

    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="readings")
    trip = models.ForeignKey("telemetry.Trip", on_delete=models.CASCADE, related_name="readings")
    session = models.CharField(max_length=128)
    recorded_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)

    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    gps_speed_mph = models.FloatField("GPS speed", null=True, blank=True)
    speed_mph = models.FloatField("speed", null=True, blank=True)
    altitude_ft = models.FloatField("altitude", null=True, blank=True)
    trip_distance_miles = models.FloatField("Torque trip distance", null=True, blank=True)
    trip_fuel_gallons = models.FloatField("Torque trip fuel", null=True, blank=True)
    odometer_miles = models.FloatField("odometer", null=True, blank=True)
    engine_rpm = models.FloatField("engine speed", null=True, blank=True)
    ambient_temp_f = models.FloatField("outside temperature", null=True, blank=True)
    coolant_temp_f = models.FloatField("coolant temperature", null=True, blank=True)
    fuel_level_pct = models.FloatField("fuel level", null=True, blank=True)
    control_voltage = models.FloatField(null=True, blank=True)
    soc_pct = models.FloatField("SOC (custom PID)", null=True, blank=True, help_text="k22005b, the owner's custom SOC equation.")
    soc_raw_pct = models.FloatField("SOC (raw, PID 0x5B)", null=True, blank=True, help_text="k5b, standard PID 0x5B: raw pack SOC.")
    volt_fuel_level_pct = models.FloatField("fuel level (Volt PID)", null=True, blank=True)
    hv_power_kw = models.FloatField("HV power", null=True, blank=True)
    hv_voltage = models.FloatField("HV voltage", null=True, blank=True)
    hv_current_a = models.FloatField("HV current", null=True, blank=True)
    battery_capacity_kwh = models.FloatField("battery capacity", null=True, blank=True)
    charger_status = models.FloatField(null=True, blank=True)
    charger_power_kw = models.FloatField("charger power", null=True, blank=True)

    raw = models.JSONField(default=dict, blank=True, help_text="Unknown keys, kept as uploaded.")
    rejected = models.JSONField(default=dict, blank=True, help_text="Keys dropped as invalid, with the reason.")

    class Meta:
        constraints = [
            # A retried upload must not be stored twice: enforced here, not by a read-then-write.
            models.UniqueConstraint(fields=["vehicle", "session", "recorded_at"], name="reading_unique_per_session_time"),
        ]
        indexes = [
            models.Index(fields=["trip", "recorded_at"], name="reading_trip_time"),
            # The odometer check's neighbours in time (telemetry/odometer.py).
            models.Index(fields=["vehicle", "recorded_at"], condition=models.Q(odometer_miles__isnull=False),
                         name="reading_vehicle_odometer_time"),
        ]
        ordering = ["recorded_at"]

    def __str__(self) -> str:
        return f"{self.vehicle_id}@{self.recorded_at:%Y-%m-%d %H:%M:%S}"


class PidDescription(models.Model):
    """What a PID means for one vehicle, from Torque's metadata messages."""

    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="pid_descriptions")
    pid = models.CharField(max_length=32)
    full_name = models.CharField(max_length=128, blank=True, default="")
    short_name = models.CharField(max_length=128, blank=True, default="")
    user_unit = models.CharField(max_length=128, blank=True, default="")
    default_unit = models.CharField(max_length=128, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["vehicle", "pid"], name="pid_description_unique")]
        ordering = ["pid"]

    def __str__(self) -> str:
        return f"{self.pid}: {self.full_name or self.short_name}"
