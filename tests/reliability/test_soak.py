"""Soak: many threads posting interleaved, retried and reordered drives of 10 cars to a live server."""

from __future__ import annotations

import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from telemetry.drive_sim import DrivePlan, drive_readings, session_for
from telemetry.models import Reading, Trip
from telemetry.vehicles import vehicle_create

VEHICLES = 10
SESSIONS_PER_VEHICLE = 3
READINGS_PER_SESSION = 30
THREADS = 12
TIME_LIMIT_S = 120.0


@pytest.mark.django_db(transaction=True)
def test_soak_loses_nothing_and_duplicates_nothing(live_server) -> None:
    rng = random.Random(20261128)
    cars = [vehicle_create(name=f"Soak {i}") for i in range(VEHICLES)]
    start = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)
    uploads: list[tuple[str, dict[str, str]]] = []
    for car in cars:
        for s in range(SESSIONS_PER_VEHICLE):
            begin = start + timedelta(hours=4 * s)
            plan = DrivePlan(session=session_for(begin), start=begin, step_seconds=20,
                             start_odometer_miles=12_000 + 100 * s)  # each session from where the last ended
            uploads += [(car.token, p) for p in list(drive_readings(plan))[:READINGS_PER_SESSION]]
    unique = len(uploads)
    # Torque retries: a fifth of the uploads arrive twice; neighbours swap places now and then.
    uploads += rng.sample(uploads, unique // 5)
    rng.shuffle(uploads)

    deadline = time.monotonic() + TIME_LIMIT_S

    def post(batch: list[tuple[str, dict[str, str]]]) -> Counter[str]:
        seen: Counter[str] = Counter()
        with httpx.Client(base_url=live_server.url, timeout=10.0) as client:
            for token, params in batch:
                if time.monotonic() > deadline:
                    seen["timeout"] += 1
                    continue
                response = client.post(f"/api/torque/upload/{token}", data=params)
                seen[f"{response.status_code} {response.text[:20]}"] += 1
        return seen

    batches = [uploads[i::THREADS] for i in range(THREADS)]
    with ThreadPoolExecutor(THREADS) as pool:
        outcome = sum(pool.map(post, batches), Counter())

    assert outcome == Counter({"200 OK!": len(uploads)})
    assert Reading.objects.count() == unique
    assert Trip.objects.count() == VEHICLES * SESSIONS_PER_VEHICLE
    assert set(Trip.objects.values_list("reading_count", flat=True)) == {READINGS_PER_SESSION}
