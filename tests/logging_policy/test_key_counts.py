"""Per-key counts for the overview (pure): the HT sums survive the trip through integer buckets."""

from __future__ import annotations

import pytest

from logging_policy.estimator import ht_sums
from logging_policy.key_counts import SCALE, KeyRow, key_count, key_increments, key_rows, rows_grouped
from logging_policy.overview import projected_kept_per_day
from logging_policy.sampling import Decision


def test_counts_through_buckets_give_the_estimate_and_rse_of_the_kept_events() -> None:
    pending: dict = {}
    rates = [1.0, 0.5, 0.25, 0.25, 0.1]
    for i, p in enumerate(rates):
        key_count(pending, 60, Decision(True, "client_error", p, True, "telemetry_upload|401|E400"))
        key_count(pending, 120 if i else 60, Decision(False, "client_error", p, False, "telemetry_upload|401|E400"))
    buckets = key_increments(pending, lambda minute: f"k:{minute}")
    assert set(buckets) == {"k:60", "k:120"}
    (row,) = key_rows([buckets["k:120"], buckets["k:60"]])  # newest minute first
    expected = ht_sums(rates)
    assert (row.seen, row.kept) == (10, 5)
    assert row.estimate == pytest.approx(expected.estimate) and row.sums.variance == pytest.approx(expected.variance)
    assert row.rse_percent == pytest.approx(expected.rse * 100)
    assert row.rate == pytest.approx((0.5 + 0.25 + 0.25 + 0.1) / 4)  # the newest minute's mean keep probability
    assert (row.operation, row.values, row.group, row.kept_per_day) == ("telemetry_upload", "401 · E400",
                                                                          "Operations", 120)


def test_unrouted_static_files_and_scanners_are_grouped_after_the_operations() -> None:
    def bucket(key: str, seen: int) -> dict[str, int]:
        return {f"{key}|seen": seen, f"{key}|kept": 1, f"{key}|w": SCALE, f"{key}|ps": SCALE * seen}

    rows = key_rows([{**bucket("http_unrouted|scanner|404|E004", 900), **bucket("http_unrouted|static|404|E004", 50),
                      **bucket("telemetry_upload|200|", 10), **bucket("vehicle_trips|403|E402", 20),
                      **bucket("http_unrouted|other|404|E004", 3)}])
    assert [(title, [r.key for r in group]) for title, group in rows_grouped(rows)] == [
        ("Operations", ["vehicle_trips|403|E402", "telemetry_upload|200|"]),
        ("Static files (unrouted)", ["http_unrouted|static|404|E004"]),
        ("Scanners (unrouted)", ["http_unrouted|scanner|404|E004"]),
        ("Other unrouted paths", ["http_unrouted|other|404|E004"]),
    ]


def test_the_projection_cuts_each_key_to_its_budget() -> None:
    flood = KeyRow("telemetry_upload|401|E400", 90_000, 30_000, ht_sums([]), 0.1)
    quiet = KeyRow("vehicle_trips|200|", 100, 5, ht_sums([]), 0.05)
    budgets = {"telemetry_upload": 200, "vehicle_trips": 200}
    # 40,000 kept in the hour, of which the flood's 30,000 is cut to 200 a minute (12,000).
    assert projected_kept_per_day(kept_last_hour=40_000, keys=[flood, quiet], budget=budgets.__getitem__) \
        == (40_000 - 18_000) * 24


def test_in_dry_run_the_sums_are_those_of_what_the_policy_would_keep() -> None:
    pending: dict = {}
    key_count(pending, 0, Decision(True, "client_error", 0.5, False, "k|1"))  # written, would be dropped
    key_count(pending, 0, Decision(True, "client_error", 0.5, True, "k|1"))
    (row,) = key_rows(key_increments(pending, str).values())
    assert (row.seen, row.kept, row.estimate) == (2, 1, 2.0)
