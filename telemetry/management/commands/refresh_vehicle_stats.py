from __future__ import annotations

from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from telemetry.models import Vehicle
from telemetry.stats import REFRESH_CHUNK, vehicle_stats_refresh, vehicle_stats_refresh_all


class Command(BaseCommand):
    help = "Recompute lifetime statistics now: every vehicle (set-based, in chunks), or one with --vehicle."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--vehicle", type=int, default=None, help="Only this vehicle id.")
        parser.add_argument("--chunk", type=int, default=REFRESH_CHUNK, help="Vehicles per SQL statement.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (for logs).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["vehicle"] is not None:
            if not vehicle_stats_refresh(vehicle_id=options["vehicle"]):
                raise CommandError(f"No vehicle {options['vehicle']}.")
            self.stdout.write(f"Refreshed vehicle {options['vehicle']}.")
            return
        with tqdm(total=Vehicle.objects.count(), unit="vehicle", disable=options["no_progress"],
                  file=cast(TextIO, self.stderr._out)) as bar:  # noqa: SLF001 - the raw stream: OutputWrapper.write appends newlines
            summary = vehicle_stats_refresh_all(chunk=options["chunk"], progress=bar.update)
        self.stdout.write(f"Refreshed {summary.vehicles} vehicles in {summary.statements} statements.")
