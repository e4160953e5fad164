"""WideEvent's rollback guard: a failed unit of work leaves its failure on the event, not its facts."""

from __future__ import annotations

import time

import pytest

from logging_policy.current import NULL_EVENT
from logging_policy.events import WideEvent


def test_a_failed_unit_leaves_its_error_but_not_what_it_set() -> None:
    event = WideEvent(operation="trips_close_stale", kind="task")
    event.fact("trip_finalized")
    event.set("charging", replayed={"added": 1})
    event.append("trips", "failed", 1)
    with pytest.raises(RuntimeError), event.rollback_guard():
        event.fact("charging_session_started")
        event.set("charging", replayed={"added": 2}, closed_session_id=9)
        event.append("trips", "failed", 2)
        event.set("refuel", detected=1)
        with event.timer("trip_compute"):
            pass
        event.note_warning("W001", "cache away")
        raise RuntimeError("trip close refused")
    assert event.data["business"] == {"trip_finalized": True}
    assert (event.data["charging"], event.data["trips"]) == ({"replayed": {"added": 1}}, {"failed": [1]})
    assert "refuel" not in event.data
    assert list(event.data["timings_ms"]) == ["trip_compute"]  # what the failed work cost stays
    assert event.data["warnings"] == [{"code": "W001", "message": "cache away"}]


def test_a_unit_that_succeeds_keeps_what_it_set() -> None:
    event = WideEvent(operation="trip_finalize", kind="task")
    with event.rollback_guard():
        event.fact("charging_session_started")
        event.set("charging", replayed={"added": 1})
    assert (event.data["business"], event.data["charging"]) == (
        {"charging_session_started": True}, {"replayed": {"added": 1}})


def test_the_null_event_guard_lets_the_error_through() -> None:
    with pytest.raises(ValueError, match="boom"), NULL_EVENT.rollback_guard():
        raise ValueError("boom")


def test_a_timer_adds_each_block_and_keeps_the_sum_a_short_decimal() -> None:
    event = WideEvent(operation="telemetry_upload", kind="http")
    with event.timer("db_insert"):
        time.sleep(0.002)
    first = event.data["timings_ms"]["db_insert"]
    for _ in range(3):
        with event.timer("db_insert"):
            time.sleep(0.001)
    total = event.data["timings_ms"]["db_insert"]
    assert 2.0 <= first < 1000.0 and total >= first + 3.0
    # Milliseconds to the microsecond, also after adding (no 0.30000000000000004 in the event).
    assert len(repr(total).split(".")[1]) <= 3 and len(repr(first).split(".")[1]) <= 3
    with pytest.raises(ValueError, match="bad row"), event.timer("parse"):
        raise ValueError("bad row")
    assert event.data["timings_ms"]["parse"] >= 0.0  # a block that raised still reports its time
