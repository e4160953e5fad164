"""A vehicle's odometer only runs forwards: a reading that contradicts its neighbours in time is refused.

The neighbours are the vehicle's readings just before and just after the new one by the phone's
clock, in any session, so a late or out-of-order reading is judged where it belongs in the timeline,
not against whatever arrived last. A demo drive replayed over an earlier one, or a phone whose
clock jumped back, would otherwise splice two stretches of road into one trip. The neighbours are
read with the vehicle (telemetry/upload_sql.py), so the check costs the upload no query.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from telemetry.models import Reading

# Readings of the same moment may disagree by the PID's resolution and rounding (0.1 km), and two
# phones on one car by a little more; a real drive never moves the odometer back by half a mile.
ODOMETER_SLACK_MILES = 0.5


def odometer_conflict(value: float, *, before: float | None, after: float | None,
                      slack: float = ODOMETER_SLACK_MILES) -> str | None:
    """Why `value` cannot sit between the readings `before` and `after` (None: it can). Pure."""
    if before is not None and value < before - slack:
        return (f"The odometer reads {value:.1f} mi, {before - value:.1f} mi less than the vehicle's reading "
                f"before it in time ({before:.1f} mi); an odometer does not run backwards.")
    if after is not None and value > after + slack:
        return (f"The odometer reads {value:.1f} mi, {value - after:.1f} mi more than the vehicle's reading "
                f"after it in time ({after:.1f} mi); an odometer does not run backwards.")
    return None


class TimelineEnd(NamedTuple):
    at: datetime | None
    odometer_miles: float | None


def vehicle_timeline_end(*, vehicle_id: int) -> TimelineEnd:
    """The time of the vehicle's last reading and its last known odometer: where a new drive may go on."""
    last = Reading.objects.filter(vehicle_id=vehicle_id).order_by("-recorded_at").values_list("recorded_at")[:1]
    odometer = (Reading.objects.filter(vehicle_id=vehicle_id, odometer_miles__isnull=False)
                .order_by("-recorded_at").values_list("odometer_miles")[:1])
    return TimelineEnd(next((r[0] for r in last), None), next((r[0] for r in odometer), None))
