from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from telemetry.vehicles import vehicle_create


class Command(BaseCommand):
    help = "Create a vehicle and print its Torque Pro upload URL (shown once: the token is stored hashed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="A name for the car, e.g. 'Blue Volt'.")
        parser.add_argument("--tank-gallons", type=float, default=None, help="Fuel tank, US gallons (default 8.9).")
        parser.add_argument("--battery-kwh", type=float, default=None, help="Nominal pack capacity (default 18.4).")
        parser.add_argument("--base-url", default=None, help="Public URL of this server (default PUBLIC_BASE_URL).")
        parser.add_argument("--token-only", action="store_true", help="Print only the token (for scripts).")

    def handle(self, *args: Any, **options: Any) -> None:
        created = vehicle_create(
            name=options["name"],
            fuel_tank_gallons=options["tank_gallons"],
            nominal_battery_kwh=options["battery_kwh"],
        )
        if options["token_only"]:
            self.stdout.write(created.token)
            return
        self.stdout.write(self.style.SUCCESS(f"Vehicle {created.vehicle.pk} '{created.vehicle.name}' created."))
        self.stdout.write("Upload URL for Torque Pro (Settings > Data Logging & Upload > Webserver URL):")
        self.stdout.write(created.upload_url(options["base_url"]))
        self.stdout.write("It is shown only now; reset the token in the admin if it is lost.")
