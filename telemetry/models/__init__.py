from __future__ import annotations

from telemetry.models.charging import ChargingSession, Refuel
from telemetry.models.readings import PidDescription, Reading
from telemetry.models.stats import BatteryHealthSample, VehicleStats
from telemetry.models.trips import Trip
from telemetry.models.vehicles import Vehicle

__all__ = ["BatteryHealthSample", "ChargingSession", "PidDescription", "Reading", "Refuel", "Trip", "Vehicle",
           "VehicleStats"]
