from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import orjson
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from logging_policy.event_lines import event_line

DEFAULT_PATH = "var/events.jsonl"  # make run's
TAIL_CHUNK = 256 * 1024


def last_lines(path: Path, count: int) -> list[bytes]:
    """The file's last `count` lines, reading back from its end (the log may be large)."""
    with path.open("rb") as file:
        file.seek(0, os.SEEK_END)
        end = position = file.tell()
        data = b""
        while position > 0 and data.count(b"\n") <= count:
            position = max(position - TAIL_CHUNK, 0)
            file.seek(position)
            data = file.read(end - position)
    return [line for line in data.splitlines() if line.strip()][-count:]


class Command(BaseCommand):
    help = ("Print the last wide events one line each: time, operation, status, duration, why kept, "
            "and the key ids and facts. The full JSON is in the file (jq).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("-n", "--lines", type=int, default=20, help="How many events (default 20).")
        parser.add_argument("-f", "--follow", action="store_true", help="Keep printing new events as they come.")
        parser.add_argument("--path", default=None,
                            help=f"The event file (default WIDE_EVENTS_PATH, else {DEFAULT_PATH}).")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"] or settings.WIDE_EVENTS_PATH or DEFAULT_PATH)
        if not path.is_file():
            raise CommandError(f"No event file at {path}: `make run` writes var/events.jsonl; "
                               "elsewhere set WIDE_EVENTS_PATH or --path.")
        for line in last_lines(path, max(options["lines"], 0)):
            self._print(line)
        if options["follow"]:
            self._follow(path)

    def _print(self, line: bytes) -> None:
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            return  # a line torn by a full disk (logging_policy/emit.py): nothing to show
        if isinstance(event, dict):
            self.stdout.write(event_line(event))

    def _follow(self, path: Path) -> None:
        with path.open("rb") as file:
            file.seek(0, os.SEEK_END)
            pending = b""
            try:
                while True:
                    chunk = file.readline()
                    if not chunk:
                        time.sleep(0.5)
                        continue
                    pending += chunk
                    if pending.endswith(b"\n"):
                        self._print(pending)
                        pending = b""
            except KeyboardInterrupt:
                return
