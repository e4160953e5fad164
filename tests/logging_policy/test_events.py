"""WideEvent's rollback guard: a failed unit of work leaves its failure on the event, not its facts."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from logging_policy.current import NULL_EVENT
from logging_policy import events
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
    assert list(event.timings()) == ["trip_compute"]  # what the failed work cost stays
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


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_timer_adds_every_block_exactly_and_shows_the_sum_to_the_microsecond(monkeypatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr(events, "_now", clock)
    event = WideEvent(operation="telemetry_upload", kind="http")
    for _ in range(1000):  # blocks of 0.4 us: each alone would round to nothing
        with event.timer("db_insert"):
            clock.now += 0.0000004
    assert event.timings()["db_insert"] == 0.4
    with event.timer("db_insert"):
        clock.now += 0.00123456
    assert event.timings()["db_insert"] == 1.635  # 1.63456 ms, to the microsecond
    timer = event.timer("parse")
    clock.now += 0.005  # made, not yet entered: not counted
    with timer:
        clock.now += 0.001
    with pytest.raises(ValueError, match="bad row"), event.timer("auth"):
        clock.now += 0.002
        raise ValueError("bad row")
    event.set("timings_ms", queue_wait=3.0)
    with event.timer("queue_wait"):  # a timer adds to a value set by hand
        clock.now += 0.001
    assert {k: event.timings()[k] for k in ("parse", "auth", "queue_wait")} == {
        "parse": 1.0, "auth": 2.0, "queue_wait": 4.0}
    assert event.data["timings_ms"] == {"queue_wait": 3.0}  # written out only for a kept event:
    assert event.close() is not None
    event.complete_kept()
    assert event.data["timings_ms"] == {"queue_wait": 4.0, "db_insert": 1.635, "parse": 1.0, "auth": 2.0}


@pytest.mark.django_db
def test_a_database_error_keeps_its_first_line_not_the_row_it_quotes() -> None:
    """PostgreSQL's DETAIL lists the row a constraint refused: a reading's would carry its position."""
    event = WideEvent(operation="probe", kind="task")
    with pytest.raises(IntegrityError) as raised, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE probe_position (latitude float CHECK (latitude < 0))")
        cursor.execute("INSERT INTO probe_position VALUES (47.61234)")
    assert "47.61234" in str(raised.value)  # PostgreSQL quotes it
    event.add_error(raised.value)
    assert event.data["error"]["message"].startswith("IntegrityError: new row for relation")
    assert "47.61234" not in event.data["error"]["message"]
