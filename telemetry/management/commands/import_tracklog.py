from __future__ import annotations

from pathlib import Path
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from logging_policy.error_codes import CodedError
from telemetry.models import Vehicle
from telemetry.tracklog_import import tracklog_import


class Command(BaseCommand):
    help = ("Import Torque Pro track-log CSV files (one drive each) for a vehicle; files already imported or "
            "uploaded live are not stored twice (docs/import.md).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="trackLog-*.csv files.")
        parser.add_argument("--vehicle", type=int, required=True, help="The vehicle's id (admin, Vehicles).")
        parser.add_argument("--tz", default=None,
                            help="IANA time zone of Device Time (America/Los_Angeles) for files whose GPS Time "
                                 "names no zone.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (for logs).")

    def handle(self, *args: Any, **options: Any) -> None:
        vehicle = Vehicle.objects.filter(pk=options["vehicle"]).first()
        if vehicle is None:
            raise CommandError(f"No vehicle {options['vehicle']} (see the admin's Vehicles page for ids).")
        failed: list[str] = []
        for path in options["files"]:
            try:
                data = path.read_bytes()
            except OSError as exc:
                failed.append(f"{path}: cannot read it ({exc.strerror})")
                self.stderr.write(failed[-1])
                continue
            with tqdm(total=data.count(b"\n"), unit="row", desc=path.name, disable=options["no_progress"],
                      file=cast(TextIO, self.stderr._out), leave=False) as bar:  # noqa: SLF001 - raw stream: OutputWrapper adds newlines
                try:
                    result = tracklog_import(vehicle=vehicle, data=data, name=path.name, tz=options["tz"],
                                             progress=bar.update)
                except CodedError as exc:  # not a track log: the message names the line and the reason
                    failed.append(f"{path}: {exc.message}")
                    self.stderr.write(f"{failed[-1]} ({exc.error.code}); nothing of it was stored")
                    continue
            self.stdout.write(result.summary())
        if failed:
            raise CommandError(f"{len(failed)} of {len(options['files'])} files not imported:\n" + "\n".join(failed))
