"""Sampling counters: right counts per operation and reason, batched writes, Redis away costs nothing."""

from __future__ import annotations

import re
import uuid
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client, override_settings
from django.urls import reverse

from logging_policy import counters
from logging_policy.counters import FLUSH_EVERY, FLUSH_INTERVAL_S, Window, counters_flush, counters_overview
from logging_policy.policy import policy_override
from logging_policy.sampling import Decision, OperationRule, PolicySnapshot
from logging_policy.synthetic import trace_id_drawing
from telemetry.drive_sim import DrivePlan, drive_readings
from tests.logging_policy.test_policy_cache import REDIS_AWAY, Clock, traceparent

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
# Uploads at a known 25 %: no new-vehicle floor, the first upload's trip_created kept as critical.
QUARTER = PolicySnapshot(new_vehicle_rate=0.0, rules={"telemetry_upload": OperationRule(sample_rate=0.25)})


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    fake.now = 1_900_000_000.0 + 30  # a wall-clock time, mid-minute
    monkeypatch.setattr(counters, "clock", fake)
    # Buckets of this test only: earlier runs' buckets (they live a day) must not count.
    monkeypatch.setattr(counters, "PREFIX", f"sampling_counts_test_{uuid.uuid4().hex}")
    counters.counters_forget()
    return fake


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The batches written to the real cache: one entry (its number of buckets) per write."""
    done: list[int] = []
    real = counters._store_add

    def counted(batch: dict[str, dict[str, int]]) -> None:
        real(batch)
        done.append(len(batch))

    monkeypatch.setattr(counters, "_store_add", counted)
    return done


def uploads(volt: Any, upload: Any, n_kept: int, n_dropped: int) -> None:
    readings = drive_readings(DrivePlan(session="counters-1", start=START, electric_miles=20.0, gas_miles=0.0))
    traces = [trace_id_drawing(below=0.25, skip=i) for i in range(n_kept)]
    traces += [trace_id_drawing(at_least=0.25, skip=i) for i in range(n_dropped)]
    for trace in traces:
        response = upload(volt.token, next(readings), traceparent=traceparent(trace))
        assert response.content == b"OK!"


def rows_of(operation: str) -> dict[str, tuple[Window, Window]]:
    return {r.reason: (r.hour, r.day) for r in counters_overview() if r.operation == operation}


@pytest.mark.django_db
def test_counts_per_reason_after_uploads_at_a_known_rate(volt, upload, clock) -> None:
    with policy_override(QUARTER):
        uploads(volt, upload, n_kept=7, n_dropped=13)  # the first (kept) one opens the trip
    rows = rows_of("telemetry_upload")
    assert rows == {"critical_event": (Window(1, 1, 1), Window(1, 1, 1)),
                    "operation_rate": (Window(19, 6, 6), Window(19, 6, 6))}
    [row] = [r for r in counters_overview() if r.reason == "operation_rate"]
    assert (row.kept_per_day, row.would_keep_per_day) == (6 * 24, 6 * 24)


@pytest.mark.django_db
def test_dry_run_keeps_everything_and_counts_what_it_would_keep(volt, upload, clock) -> None:
    with policy_override(PolicySnapshot(**{**_fields(QUARTER), "dry_run": True})):
        uploads(volt, upload, n_kept=3, n_dropped=9)
    assert rows_of("telemetry_upload")["operation_rate"][0] == Window(seen=11, kept=11, would_keep=2)


def _fields(snapshot: PolicySnapshot) -> dict[str, Any]:
    # The policy's own fields: not its provenance, nor what __post_init__ derives.
    return {f.name: getattr(snapshot, f.name) for f in fields(snapshot) if f.init and f.compare}


def test_the_last_hour_and_day_are_windows_of_buckets(clock) -> None:
    decision = Decision(keep=True, reason="default_rate", rate=1.0, would_keep=True)
    counters.counters_record(operation="old", decision=decision)
    clock.now += 2 * 3600  # two hours later: out of the hour, still in the day
    counters.counters_record(operation="new", decision=decision)
    overview = {r.operation: (r.hour.seen, r.day.seen) for r in counters_overview()}
    assert overview == {"old": (0, 1), "new": (1, 1)}
    clock.now += 24 * 3600
    assert counters_overview() == []


def test_counts_are_written_in_batches_not_per_event(clock, writes) -> None:
    decision = Decision(keep=False, reason="operation_rate", rate=0.05, would_keep=False)
    n = 2 * FLUSH_EVERY + 7
    for _ in range(n):
        counters.counters_record(operation="telemetry_upload", decision=decision)
    assert writes == [2, 2]  # two batches so far (each: one minute and one hour bucket), not one per event
    clock.now += FLUSH_INTERVAL_S  # a quiet process flushes on its next event after the interval
    counters.counters_record(operation="telemetry_upload", decision=decision)
    assert len(writes) == 3
    assert rows_of("telemetry_upload")["operation_rate"][0] == Window(seen=n + 1, kept=0, would_keep=0)


@pytest.mark.django_db
def test_redis_away_fails_no_upload_and_the_counts_arrive_later(volt, upload, clock, writes) -> None:
    with override_settings(CACHES=REDIS_AWAY), policy_override(QUARTER):
        clock.now += FLUSH_INTERVAL_S  # every upload below is due to flush, and each flush fails
        uploads(volt, upload, n_kept=2, n_dropped=3)
        assert writes == [] and counters_flush() is False
    assert counters_flush() is True and len(writes) == 1  # the kept counts, in one batch
    assert rows_of("telemetry_upload")["operation_rate"][0] == Window(seen=4, kept=1, would_keep=1)


@pytest.mark.django_db
def test_the_overview_page_shows_the_counts_and_is_linked_from_the_policy_page(volt, upload, clock) -> None:
    with policy_override(QUARTER):
        uploads(volt, upload, n_kept=2, n_dropped=2)
    user = User.objects.create_user("viewer", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_loggingpolicy"))
    client = Client()
    client.force_login(user)
    policy_page = client.get(reverse("admin:logging_policy_loggingpolicy_changelist"), follow=True)
    overview_url = reverse("admin:logging_policy_sampling_overview")
    assert f"href='{overview_url}'" in policy_page.content.decode()
    page = client.get(overview_url).content.decode()
    row = page.split('data-operation="telemetry_upload" data-reason="operation_rate">')[1].split("</tr>")[0]
    cells = [c.split("</td>")[0] for c in row.split("<td>")[1:]]
    # operation, reason, hour seen/kept/would, day seen/kept/would, per day kept/would
    assert cells == ["telemetry_upload", "operation_rate", "3", "1", "1", "3", "1", "1", "24", "24"]
    # Per key: the three sampled uploads, one kept at 25 %: it stands for 4, RSE sqrt(0.75 / 0.25^2) / 4.
    row = page.split('data-key="telemetry_upload|200|">')[1].split("</tr>")[0]
    cells = [c.split("</td>")[0] for c in row.split("<td>")[1:]]
    assert cells == ["telemetry_upload", "200 · –", "3", "1", "4", "0.2500", "86.6 %", "24"]
    projected = re.search(r"([\d,]+) \(last hour: ([\d,]+) kept", policy_page.content.decode())
    assert projected and int(projected[1].replace(",", "")) == 24 * int(projected[2]) >= 48
    with override_settings(CACHES=REDIS_AWAY):
        away = client.get(overview_url)
    assert away.status_code == 200 and "could not be read" in away.content.decode()


@pytest.mark.django_db
def test_the_overview_needs_a_policy_permission(client) -> None:
    client.force_login(User.objects.create_user("staff-only", password="x", is_staff=True))
    assert client.get(reverse("admin:logging_policy_sampling_overview")).status_code == 403


def test_without_redis_the_file_cache_holds_the_counts(clock, writes, tmp_path) -> None:
    file_cache = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                              "LOCATION": str(tmp_path / "cache")}}
    kept = Decision(keep=True, reason="error", rate=1.0, would_keep=True)
    with override_settings(CACHES=file_cache):
        n = FLUSH_EVERY + 3
        for _ in range(n):
            counters.counters_record(operation="trip_finalize", decision=kept)
        assert rows_of("trip_finalize") == {"error": (Window(n, n, n), Window(n, n, n))}
    assert len(writes) == 2 and (tmp_path / "cache").is_dir()
