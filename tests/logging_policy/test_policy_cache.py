"""The policy snapshot: seeded defaults, no database on the request path, freshness, Redis away."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from django.test import override_settings

from logging_policy import policy as policy_mod
from logging_policy.payload import snapshot_from_payload, snapshot_to_payload
from logging_policy.policy import CACHE_KEY, CHECK_INTERVAL_S, policy_current, policy_payload_active
from logging_policy.sampling import default_policy
from logging_policy.synthetic import trace_id_drawing
from telemetry.drive_sim import DrivePlan, drive_readings
from tests.factories import Clock
from tests.telemetry.budget import steady_upload_queries

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
# Nothing listens on port 1: a real Redis client failing to connect, not a stand-in.
REDIS_AWAY = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": "redis://127.0.0.1:1/0", "OPTIONS": {"socket_connect_timeout": 0.2}}}
ALWAYS_KEPT = trace_id_drawing(below=0.01)  # kept at any rate of at least 1 %


def traceparent(trace_id: str) -> str:
    return f"00-{trace_id}-{'1' * 16}-01"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(policy_mod, "clock", fake)
    return fake


@pytest.fixture
def readings() -> Iterator[dict[str, str]]:
    return drive_readings(DrivePlan(session="cache-1", start=START, electric_miles=5.0, gas_miles=0.0))


@pytest.mark.django_db
def test_the_seeded_policy_is_the_default_policy() -> None:
    payload = policy_payload_active()
    assert payload is not None and payload["version"] == 1
    seeded = snapshot_from_payload(payload, source="database")
    assert replace(seeded, version=0) == default_policy()
    assert payload == {**snapshot_to_payload(default_policy()), "version": 1}


@pytest.mark.django_db
def test_a_missing_shared_copy_is_filled_from_the_database() -> None:
    assert cache.get(CACHE_KEY) is None
    snapshot = policy_current()
    assert (snapshot.source, snapshot.version, snapshot.degraded) == ("database", 1, "")
    assert cache.get(CACHE_KEY) == policy_payload_active()


@pytest.mark.django_db
def test_an_upload_reads_the_policy_without_a_database_query(volt, upload, readings, clock, sampled_events,
                                                            django_assert_num_queries) -> None:
    upload(volt.token, next(readings))  # opens the trip; this process loads the policy once
    clock.now += CHECK_INTERVAL_S  # so the next upload re-checks the policy, through Redis
    with django_assert_num_queries(steady_upload_queries()) as captured:
        # 1 vehicle by token with the session's trip joined, 2 insert the reading and update the trip
        # (SQLite: two statements); none for the policy: its check is one Redis GET
        response = upload(volt.token, next(readings), traceparent=traceparent(ALWAYS_KEPT))
    assert response.content == b"OK!"
    assert not [q for q in captured.captured_queries if "logging_policy" in q["sql"]]
    event = sampled_events.events[-1]
    assert event["trace_id"] == ALWAYS_KEPT
    assert event["sampling"]["policy_source"] == "cache"
    assert event["sampling"]["policy_version"] == 1
    assert "warnings" not in event


@pytest.mark.django_db
def test_a_change_in_the_shared_cache_is_in_force_at_the_next_check(clock) -> None:
    assert policy_current().rules["telemetry_upload"].sample_rate == 0.05
    changed = policy_payload_active()
    assert changed is not None
    changed["version"] = 2
    changed["rules"]["telemetry_upload"]["sample_rate"] = 1.0
    cache.set(CACHE_KEY, changed)  # what an admin save in another process does
    clock.now += CHECK_INTERVAL_S - 0.1
    assert policy_current().version == 1  # not re-checked yet: no Redis round trip per event
    clock.now += 0.1
    current = policy_current()
    assert (current.version, current.rules["telemetry_upload"].sample_rate, current.source) == (2, 1.0, "cache")


@pytest.mark.django_db
def test_redis_away_keeps_the_last_snapshot_then_the_database_and_the_event_says_so(
        volt, upload, readings, clock, sampled_events) -> None:
    upload(volt.token, next(readings))
    assert policy_current().source in ("database", "cache")
    with override_settings(CACHES=REDIS_AWAY):
        clock.now += CHECK_INTERVAL_S
        response = upload(volt.token, next(readings), traceparent=traceparent(ALWAYS_KEPT))
        assert response.status_code == 200 and response.content == b"OK!"
        event = sampled_events.events[-1]
        assert event["sampling"]["policy_source"] == "last_known"
        assert event["warnings"][0]["code"] == "E501"
        assert "shared cache unreachable" in event["warnings"][0]["message"]

        clock.now += 2 * CHECK_INTERVAL_S  # too old to trust without confirmation: the database confirms
        upload(volt.token, next(readings), traceparent=traceparent(ALWAYS_KEPT))
        event = sampled_events.events[-1]
        assert event["sampling"]["policy_source"] == "database"
        assert event["sampling"]["policy_version"] == 1
        assert event["warnings"][0]["code"] == "E501"
    clock.now += CHECK_INTERVAL_S
    assert policy_current().source == "cache" and policy_current().degraded == ""


@pytest.mark.django_db
def test_a_cold_process_with_redis_away_reads_the_database() -> None:
    with override_settings(CACHES=REDIS_AWAY):
        snapshot = policy_current()
    assert (snapshot.source, snapshot.version) == ("database", 1)
    assert "shared cache unreachable" in snapshot.degraded


def test_with_redis_and_database_away_the_defaults_serve() -> None:
    # No database access is allowed in this test: the load fails like a database that is down.
    with override_settings(CACHES=REDIS_AWAY):
        snapshot = policy_current()
    assert replace(snapshot, version=0) == default_policy()
    assert snapshot.source == "defaults"
    assert "database unreachable" in snapshot.degraded


def test_threads_starting_together_load_the_policy_once(monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[int] = []
    payload = {**snapshot_to_payload(default_policy()), "version": 7}
    gate = threading.Event()

    def slow_load() -> dict:
        loads.append(1)
        gate.wait(0.2)  # hold the lock while the other threads arrive
        return payload

    monkeypatch.setattr(policy_mod, "policy_payload_active", slow_load)
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(policy_current().version)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [7] * 8
    assert loads == [1]
