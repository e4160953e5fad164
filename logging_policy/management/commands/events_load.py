"""`manage.py events_load`: load the new lines of WIDE_EVENTS_PATH into the event store now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from logging_policy.event_loader import CHUNK_BYTES, events_load_configured


class Command(BaseCommand):
    help = "Load the wide-event log (WIDE_EVENTS_PATH) into the explorer's Parquet store (EVENTS_STORE_DIR)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chunk-bytes", type=int, default=CHUNK_BYTES,
                            help="Bytes of log per committed step (default %(default)s).")

    def handle(self, *args: Any, chunk_bytes: int, **options: Any) -> None:
        result = events_load_configured(chunk_bytes=chunk_bytes)
        if result is None:
            raise CommandError("WIDE_EVENTS_PATH is not set: there is no event log to load.")
        if result.busy:
            self.stdout.write("Another load is running; nothing done.")
            return
        rate = result.loaded / result.seconds if result.seconds else 0.0
        self.stdout.write(
            f"Loaded {result.loaded} events ({rate:,.0f}/s) into {result.files_written} files; "
            f"skipped {result.malformed} malformed lines; merged {result.merged} files; expired {result.expired}."
            + (" The log was rotated." if result.rotated else "")
            + (" Lines of the rotated file were lost: it was gone before they were loaded."
               if result.rotated_lost else "")
        )
