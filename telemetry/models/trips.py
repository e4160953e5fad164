from __future__ import annotations

from django.db import models
from django.utils.timezone import localtime

from telemetry.models.vehicles import Vehicle


class Trip(models.Model):
    """One Torque logging session of one vehicle, from first reading to finalization."""

    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="trips")
    session = models.CharField(max_length=128)
    trip_key = models.CharField(max_length=64)
    started_at = models.DateTimeField()
    last_reading_at = models.DateTimeField(help_text="Newest reading time, by the phone's clock.")
    last_received_at = models.DateTimeField(help_text="Server time of the newest upload; staleness is judged on it.")
    ended_at = models.DateTimeField(null=True, blank=True)
    is_closed = models.BooleanField(default=False)
    finalize_queued_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When a new session queued this trip's finalization; cleared by each new reading.",
    )
    reading_count = models.PositiveIntegerField(default=0)

    # Gas-mode detector state, advanced by each in-order reading.
    engine_on_since = models.DateTimeField(null=True, blank=True)
    engine_on_soc = models.FloatField("SOC when the engine started", null=True, blank=True)
    gas_mode_entered_at = models.DateTimeField(null=True, blank=True)
    soc_at_gas_entry = models.FloatField("SOC at the switch to gas", null=True, blank=True)

    # Parked-car detector state, carried to the vehicle's next trip (docs/charging.md).
    fuel_window = models.JSONField(default=list, blank=True, help_text="Recent [ms, fuel %] for refuel detection.")
    charging_session = models.ForeignKey("telemetry.ChargingSession", null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="+")

    # Results of finalization; empty when not computable or implausible (see `notes`).
    distance_miles = models.FloatField("distance", null=True, blank=True)
    distance_source = models.CharField(max_length=16, blank=True, default="")
    electric_miles = models.FloatField("electric distance", null=True, blank=True)
    gas_miles = models.FloatField("gas distance", null=True, blank=True)
    electric_kwh_used = models.FloatField("electric energy used", null=True, blank=True)
    regen_kwh = models.FloatField("regenerated energy", null=True, blank=True, help_text="Energy recovered into the pack (regen), kWh.")
    soc_source = models.CharField("SOC source", max_length=16, blank=True, default="",
                                  help_text="Key the trip's SOC came from: k22005b (custom, in range) or k5b (raw).")
    is_drive = models.BooleanField(null=True, blank=True,
                                   help_text="Moved at least 0.1 mi; a parked session (warm-up, charge) is not a drive.")
    is_plausible = models.BooleanField(
        null=True, blank=True,
        help_text="False when the trip is physically impossible for a Volt (see notes); kept out of lifetime stats.",
    )
    kwh_per_mile = models.FloatField("efficiency", null=True, blank=True)
    fuel_used_gallons = models.FloatField("fuel used", null=True, blank=True)
    gas_mpg = models.FloatField("gas mileage", null=True, blank=True)
    ambient_temp_f = models.FloatField("outside temperature", null=True, blank=True)
    start_soc = models.FloatField("SOC at start", null=True, blank=True)
    end_soc = models.FloatField("SOC at end", null=True, blank=True)
    battery_capacity_kwh = models.FloatField("battery capacity", null=True, blank=True)
    notes = models.JSONField(default=dict, blank=True, help_text="Values left empty at finalization, and why.")
    finalized_at = models.DateTimeField(null=True, blank=True)

    # Weather along the trip (docs/weather.md); empty until looked up, and when the lookup failed.
    weather_temp_f = models.FloatField("weather temperature", null=True, blank=True, help_text="Mean of the samples' hours, °F.")
    weather_precipitation_in = models.FloatField(null=True, blank=True, help_text="Wettest hour, inches.")
    weather_wind_mph = models.FloatField("wind", null=True, blank=True, help_text="Windiest hour, mph.")
    weather_conditions = models.CharField(max_length=32, blank=True, default="", help_text="Worst hour's conditions.")
    weather_impact_factor = models.FloatField(null=True, blank=True,
                                              help_text="Expected energy use vs. mild weather (1.0).")
    extreme_weather = models.BooleanField(null=True, blank=True)
    weather_attempted_at = models.DateTimeField(
        null=True, blank=True, help_text="Last lookup queued or run; the catch-up retries are spaced from it."
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["vehicle", "trip_key"], name="trip_unique_per_session")]
        indexes = [
            # Open trips (the stale sweep's candidates, a vehicle's open trips), keyed on a column no upload
            # changes: each upload's trip UPDATE is then a HOT update, with no new entry in any index.
            models.Index(fields=["vehicle"], condition=models.Q(is_closed=False), name="trip_open_by_vehicle"),
            models.Index(fields=["vehicle", "-started_at"], name="trip_vehicle_started"),
            # The weather catch-up's candidates: finished trips still without weather (a small set).
            models.Index(fields=["finalized_at"], condition=models.Q(is_closed=True, weather_conditions=""),
                         name="trip_weather_missing"),
        ]
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.vehicle} {localtime(self.started_at):%Y-%m-%d %H:%M}"
