from django.db import migrations, models


class Migration(migrations.Migration):
    """The odometer check (telemetry/odometer.py) finds a vehicle's readings just before and after a
    time: an index on (vehicle, recorded_at) over the readings that have an odometer."""

    dependencies = [("telemetry", "0008_trip_finalize_queued_plausible")]

    operations = [
        migrations.AddIndex(
            model_name="reading",
            index=models.Index(condition=models.Q(("odometer_miles__isnull", False)),
                               fields=["vehicle", "recorded_at"], name="reading_vehicle_odometer_time"),
        ),
    ]
