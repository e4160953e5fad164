from __future__ import annotations

from django.db import models
from django.utils.timezone import localtime

from telemetry.models.trips import Trip
from telemetry.models.vehicles import Vehicle


class VehicleStats(models.Model):
    """Lifetime figures of one vehicle, precomputed by `telemetry.stats` (docs/stats.md).

    Read by every request and task that knows its vehicle; never computed on the request path.
    """

    vehicle = models.OneToOneField(Vehicle, on_delete=models.CASCADE, primary_key=True, related_name="stats")
    total_trips = models.PositiveIntegerField(default=0, help_text="Finished trips.")
    total_miles = models.FloatField("total distance", default=0.0)
    electric_miles = models.FloatField("electric distance", default=0.0)
    gas_miles = models.FloatField("gas distance", default=0.0)
    electric_share = models.FloatField(null=True, blank=True, help_text="Electric miles / total miles, 0-1.")
    first_trip_at = models.DateTimeField(null=True, blank=True)
    last_trip_at = models.DateTimeField(null=True, blank=True)
    avg_kwh_per_mile = models.FloatField("average efficiency", null=True, blank=True)
    lifetime_mpg = models.FloatField("lifetime mileage", null=True, blank=True)
    battery_capacity_kwh = models.FloatField("battery capacity", null=True, blank=True, help_text="Latest capacity sample.")
    capacity_is_estimate = models.BooleanField(default=False)
    capacity_degradation_percent = models.FloatField("capacity degradation",
        null=True, blank=True, help_text="Capacity lost against the vehicle's nominal capacity, %."
    )
    capacity_loss_kwh_per_10k_miles = models.FloatField("capacity loss per 10,000 miles",
        null=True, blank=True, help_text="Least-squares trend of the capacity samples; positive means losing."
    )
    capacity_samples = models.PositiveIntegerField(default=0)
    # db_default as well: a refresh statement that predates these columns can still write the row.
    kwh_charged = models.FloatField("energy charged", default=0.0, db_default=0.0,
                                    help_text="kWh added by all charging sessions (open ones so far).")
    charging_sessions = models.PositiveIntegerField(default=0, db_default=0)
    last_tank_mpg = models.FloatField("last tank mileage", null=True, blank=True, help_text="MPG of the latest measured tank.")
    avg_tank_mpg = models.FloatField("average tank mileage", null=True, blank=True,
                                     help_text="Miles / gallons over all measured tanks (between refuels).")
    tanks_measured = models.PositiveIntegerField(default=0, db_default=0,
                                                 help_text="Tanks (refuel to refuel) with an MPG.")
    refreshed_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "vehicle stats"

    def __str__(self) -> str:
        return f"{self.vehicle.name}: statistics"  # lists select the vehicle with the row


class BatteryHealthSample(models.Model):
    """One battery capacity reading per finished trip: the BECM's value, or our estimate."""

    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="battery_samples")
    trip = models.OneToOneField(Trip, on_delete=models.CASCADE, related_name="battery_sample")
    capacity_kwh = models.FloatField("capacity", help_text="Whole-pack capacity, comparable to the nominal kWh.")
    is_estimate = models.BooleanField(help_text="Estimated from energy over SOC drop, not reported by the BECM.")
    odometer_miles = models.FloatField("odometer", null=True, blank=True, help_text="Odometer at the trip's end, if read.")
    lifetime_miles = models.FloatField("lifetime distance", help_text="Miles of the vehicle's finished trips up to this one: the trend's axis.")
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["vehicle", "at"], name="battery_sample_vehicle_at")]
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.capacity_kwh:.2f} kWh{' (est.)' if self.is_estimate else ''} @ {localtime(self.at):%Y-%m-%d}"
