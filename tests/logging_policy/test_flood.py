"""A flood through the whole request path (test client, real database, the seeded policy): a phone
with a reset token sends 3,000 uploads as fast as the client can; faults and other mistakes meanwhile."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from logging_policy.estimator import ht_sums
from telemetry.drive_sim import DrivePlan, drive_readings

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.logging_policy.urls_raising")]
FLOOD = "telemetry_upload|401|E400"


def test_a_flood_of_one_unknown_token_is_sampled_and_its_weights_count_it(client, upload, volt, sampled_events
                                                                           ) -> None:
    reading = next(drive_readings(DrivePlan(session="flood-1", start=datetime(2026, 3, 5, tzinfo=UTC),
                                            gas_miles=0.0)))
    # Five uploads that fail differently (each its own key): no time, a bad time, no session, no values, future.
    bad: list[dict[str, Any]] = [
        {k: v for k, v in reading.items() if k != "time"}, {**reading, "time": "soon"},
        {k: v for k, v in reading.items() if k != "session"}, {"session": "s", "time": reading["time"]},
        {**reading, "time": str(int(time.time() * 1000) + 86_400_000)},
    ]
    faults, refused = [], []
    started = time.monotonic()
    for i in range(3000):
        assert upload("0" * 24, reading).status_code == 401
        if i % 600 == 300:
            response = upload(volt.token, bad.pop())
            assert response.status_code == 400
            refused.append(response["X-Request-ID"])
        if i % 100 == 50:
            response = client.get("/explode/")
            assert response.status_code == 500
            faults.append(response["X-Request-ID"])
    elapsed = time.monotonic() - started

    events = sampled_events.events
    flood = [e for e in events if e["sampling"].get("key") == FLOOD]
    sums = ht_sums(e["sampling"]["rate"] for e in flood)
    assert all(e["sampling"]["sample_rate"] == pytest.approx(1 / e["sampling"]["rate"]) for e in flood)
    assert len(flood) <= 900, len(flood)
    assert sums.estimate == pytest.approx(3000, rel=0.15)
    by_id = {e["request_id"]: e for e in events}
    assert all(by_id[r]["sampling"]["reason"] == "client_error" and by_id[r]["sampling"]["rate"] == 1.0
               for r in refused)
    assert len({by_id[r]["sampling"]["key"] for r in refused}) == 5
    assert [by_id[r]["sampling"]["reason"] for r in faults] == ["error"] * 30
    print(f"3000 uploads in {elapsed:.1f}s (with 35 others): {len(flood)} kept, estimate {sums.estimate:.0f} "
          f"(RSE {sums.rse:.1%})")
