from __future__ import annotations

from telemetry.models.readings import PidDescription, Reading
from telemetry.models.stats import BatteryHealthSample, VehicleStats
from telemetry.models.trips import Trip
from telemetry.models.vehicles import Vehicle

__all__ = ["BatteryHealthSample", "PidDescription", "Reading", "Trip", "Vehicle", "VehicleStats"]
