"""Synthetic finished events for sampling tests and benchmarks. Pure and seeded: the same seed,
the same events. Profiles mirror the sampling order (docs/policy.md)."""

from __future__ import annotations

import random
from typing import Any

from logging_policy.sampling import trace_draw

PROFILES = ("ordinary", "error", "slow", "critical", "heavy", "new_vehicle")


def synthetic_event(profile: str, rng: random.Random) -> dict[str, Any]:
    """One finished `telemetry_upload` event of `profile`, with a random trace id from `rng`."""
    event: dict[str, Any] = {
        "trace_id": f"{rng.getrandbits(128):032x}",
        "operation": "telemetry_upload",
        "kind": "http",
        "success": True,
        "duration_ms": rng.uniform(5.0, 200.0),
        "business": {},
        "http": {"method": "GET", "status_code": 200},
        # A light vehicle (5 trips), a year old: nothing special about it.
        "vehicle": {"id": rng.randrange(1, 10_000), "total_trips": 5, "account_age_days": 365},
    }
    if profile == "error":
        event["success"] = False
        event["http"]["status_code"] = 500
    elif profile == "slow":
        event["duration_ms"] = rng.uniform(1000.0, 5000.0)
    elif profile == "critical":
        event["business"] = {"trip_created": True}
    elif profile == "heavy":
        event["vehicle"]["total_trips"] = rng.randrange(100, 2000)
    elif profile == "new_vehicle":
        event["vehicle"].update(total_trips=rng.randrange(0, 5), account_age_days=rng.randrange(0, 30))
    elif profile != "ordinary":
        raise ValueError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
    return event


def synthetic_events(n: int, *, profile: str = "ordinary", seed: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [synthetic_event(profile, rng) for _ in range(n)]


def trace_id_drawing(*, below: float = 1.0, at_least: float = 0.0, skip: int = 0) -> str:
    """A trace id whose draw lies in [at_least, below): kept (or dropped) at a known rate, for tests."""
    n = 0
    while True:
        # Spread over the id space (a W3C id's low bits are its draw): counting 1, 2, 3 draws next to 0.
        trace_id = f"{(n + 1) * 0x9E3779B97F4A7C15B7E151628AED2A6B % 2**128:032x}"
        n += 1
        if at_least <= trace_draw(trace_id) < below:
            if skip == 0:
                return trace_id
            skip -= 1
