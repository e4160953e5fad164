from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from telemetry.auth import vehicle_for_token
from telemetry.drive_sim import FIRST_ODOMETER_MILES, DrivePlan, drive_metadata, drive_readings, session_for
from telemetry.odometer import TimelineEnd, vehicle_timeline_end
from telemetry.vehicles import upload_url, vehicle_create

RETRIES = 5
# Parked between two simulated drives of one vehicle.
TRIP_GAP = timedelta(minutes=10)


class Command(BaseCommand):
    help = ("Post realistic Volt drives to a running VoltTracker over real HTTP, as Torque Pro would: "
            "electric driving that spends the battery, then gas mode.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default=None, help="Server base URL (default PUBLIC_BASE_URL).")
        who = parser.add_mutually_exclusive_group()
        who.add_argument("--token", help="Upload token of an existing vehicle (the last part of its upload URL).")
        who.add_argument("--vehicle", metavar="NAME", help="Create a vehicle with this name in the local database.")
        parser.add_argument("--vehicles", type=int, default=1, help="How many vehicles to create and drive (default 1).")
        parser.add_argument("--trips", type=int, default=1, help="Trips per vehicle (default 1).")
        parser.add_argument("--speedup", type=float, default=0.0,
                            help="Replay at N x real time (e.g. 60 = a minute per second); 0 = as fast as possible.")
        parser.add_argument("--step", type=float, default=10.0, help="Seconds between readings (Torque's default is 1-15).")
        parser.add_argument("--cold", action="store_true", help="Winter drive: 14 °F (-10 °C) with an engine pulse at high SOC.")
        parser.add_argument("--electric-miles", type=float, default=30.0,
                            help="Miles on the battery before the switch to gas, about (default 30).")
        parser.add_argument("--gas-miles", type=float, default=15.0,
                            help="Miles in gas mode after the switch, about (default 15).")
        parser.add_argument("--seed", type=int, default=None, help="Seed for the small trip-to-trip variations.")

    def handle(self, *args: Any, **options: Any) -> None:
        base = (options["url"] or settings.PUBLIC_BASE_URL).rstrip("/")
        rng = random.Random(options["seed"])
        tokens = self._tokens(options)
        now = datetime.now(UTC).replace(microsecond=0)
        plans = [(token, plan) for token in tokens
                 for plan in self._plans(options, rng, now=now, after=self._timeline_end(token))]
        total = sum(sum(1 for _ in drive_readings(plan)) + 1 for _, plan in plans)
        posted = 0
        with httpx.Client(timeout=10.0) as client, tqdm(total=total, unit="upload", disable=None) as bar:
            for token, plan in plans:
                url = upload_url(token, base)
                self._post(client, url, drive_metadata(plan))
                bar.update()
                previous_at: float | None = None
                for params in drive_readings(plan):
                    at = int(params["time"]) / 1000.0
                    if options["speedup"] > 0 and previous_at is not None:
                        time.sleep((at - previous_at) / options["speedup"])
                    previous_at = at
                    self._post(client, url, params)
                    posted += 1
                    bar.update()
        self.stdout.write(self.style.SUCCESS(f"Posted {posted} readings in {len(plans)} trip(s) to {base}."))
        self.stdout.write(
            f"Each trip is finalized when the next one starts; the last one {settings.TRIP_STALE_SECONDS} s "
            "after its last upload, at Celery beat's next check (within a minute more). Then, logged in to the admin:\n"
            f"  {base}/                                             each vehicle's last trips, lifetime figures, last charge\n"
            f"  {base}/admin/telemetry/trip/                        trips: electric and gas miles, kWh, mpg\n"
            f"  {base}/admin/telemetry/vehiclestats/                lifetime statistics and battery health\n"
            f"  {base}/admin/logging_policy/loggingpolicy/overview/ events seen and kept by sampling\n"
            "  and the wide events: `.venv/bin/python manage.py events` (one line each), or `tail -f var/events.jsonl | jq`"
        )

    def _tokens(self, options: dict[str, Any]) -> list[str]:
        if options["token"]:
            if options["vehicles"] != 1:
                raise CommandError("--token drives one vehicle; leave out --vehicles or use --vehicle.")
            return [options["token"]]
        name = options["vehicle"] or "Simulated Volt"
        count = max(options["vehicles"], 1)
        created = [vehicle_create(name=name if count == 1 else f"{name} {i + 1}") for i in range(count)]
        for new in created:
            self.stdout.write(f"Created vehicle {new.vehicle.pk} '{new.vehicle.name}'.")
        return [new.token for new in created]

    def _timeline_end(self, token: str) -> TimelineEnd:
        """Where the vehicle's readings end in this database (the server's, when they share it)."""
        vehicle = vehicle_for_token(token)
        if vehicle is None:
            return TimelineEnd(None, None)
        end = vehicle_timeline_end(vehicle_id=vehicle.pk)
        if end.at is not None:
            odometer = f"{end.odometer_miles:,.1f} mi" if end.odometer_miles is not None else "no odometer"
            self.stdout.write(f"Vehicle {vehicle.pk} goes on after its last reading ({end.at:%Y-%m-%d %H:%M} UTC, "
                              f"{odometer}).")
        return end

    def _plans(self, options: dict[str, Any], rng: random.Random, *, now: datetime,
               after: TimelineEnd) -> list[DrivePlan]:
        """Trips 3 hours apart ending before now; each after the vehicle's last reading, from its odometer."""
        trips = max(options["trips"], 1)
        first = now - timedelta(hours=3 * trips)
        not_before = after.at + TRIP_GAP if after.at else first
        odometer = after.odometer_miles if after.odometer_miles is not None else FIRST_ODOMETER_MILES
        plans = []
        for i in range(trips):
            start = max(first + timedelta(hours=3 * i), not_before)
            plan = DrivePlan(
                session=session_for(start), start=start, step_seconds=options["step"],
                electric_miles=options["electric_miles"] * rng.uniform(0.9, 1.1),
                gas_miles=options["gas_miles"] * rng.uniform(0.8, 1.2),
                mph=rng.uniform(32.0, 48.0), kwh_per_mile=rng.uniform(0.25, 0.32), mpg=rng.uniform(36.0, 44.0),
                ambient_c=-10.0 if options["cold"] else rng.uniform(12.0, 24.0),
                cold_pulse_seconds=300.0 if options["cold"] else 0.0,
                start_soc=rng.uniform(82.0, 88.0) if options["cold"] else 80.0,
                start_odometer_miles=round(odometer, 1),
            )
            end = start + timedelta(seconds=plan.electric_seconds + plan.gas_seconds)
            if end > now:
                raise CommandError(
                    f"Trip {i + 1} of {trips} would start at {start:%Y-%m-%d %H:%M} UTC, after the vehicle's "
                    f"readings so far, and end at {end:%H:%M} UTC, after now; the server refuses readings from "
                    "the future (E306). Try again after then, or with fewer --trips or miles. Nothing was posted.")
            plans.append(plan)
            not_before = end + TRIP_GAP
            odometer = plan.start_odometer_miles + plan.electric_miles + plan.gas_miles
        return plans

    def _post(self, client: httpx.Client, url: str, params: dict[str, str]) -> None:
        """Post like Torque Pro: retry what the server asks to retry, fail loudly on the rest."""
        for attempt in range(RETRIES):
            try:
                response = client.post(url, data=params)
            except httpx.TransportError as exc:
                if attempt == RETRIES - 1:
                    raise CommandError(f"cannot reach {url.rsplit('/', 1)[0]}/...: {exc}") from exc
                time.sleep(2**attempt * 0.2)
                continue
            if response.text == "OK!":
                return
            if response.status_code in (429, 503) and attempt < RETRIES - 1:
                time.sleep(float(response.headers.get("Retry-After", 1)))
                continue
            raise CommandError(f"upload refused: HTTP {response.status_code} {response.text[:200]}")
