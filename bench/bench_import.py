"""Benchmark: importing a Torque track log, rows per second (issue 21: at least 20,000 on 2 cores).

The file is generated (telemetry/tracklog_sim.py): one drive of --rows rows in imperial units, as
wide as a real log (the 22 known columns and 95 the import does not know, every third of them a
number), with `-` and `∞` here and there. Each round imports it for a fresh vehicle through the
service (`tracklog_import`, the command's path: COPY in batches, one transaction, finalization) and
reports apart parse (CSV -> uploads -> parsed readings), COPY (temporary table and INSERT ... ON
CONFLICT), detect (the upload's detectors per stored reading), finalize (trip counters, replays,
metrics) and commit, and the total. The medians go to
docs/benchmarks.md ("Track-log import").

    DATABASE_URL=postgres://.../volttracker_bench python bench/bench_import.py [--rows 50000] [--rounds 3]

Prints one JSON line last (for bench/run_all.py).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "volttracker.settings")
os.environ.setdefault("WIDE_EVENTS_PATH", os.devnull)  # the event is built and written, not printed

import django  # noqa: E402

django.setup()

from telemetry.drive_sim import DrivePlan, drive_readings  # noqa: E402
from telemetry.tracklog_import import tracklog_import  # noqa: E402
from telemetry.tracklog_sim import LogStyle, tracklog_csv  # noqa: E402
from telemetry.vehicles import vehicle_create  # noqa: E402


PARTS = ("parse", "copy", "detect", "finalize", "commit")


def bench_file(rows: int) -> bytes:
    # A 50-mile drive (30 electric, 20 gas) sampled finely enough to give `rows` readings.
    plan = DrivePlan(session="bench", start=datetime(2026, 1, 3, 15, tzinfo=UTC), step_seconds=4500.0 / rows)
    style = LogStyle(units="imperial", missing_every=7, infinite_every=101, unknown_columns=95)
    return tracklog_csv(drive_readings(plan), style).encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=5000)
    args = parser.parse_args()
    data = bench_file(args.rows)
    print(f"file: {len(data) / 1e6:.1f} MB, {args.rows} rows, batches of {args.batch_size}", flush=True)
    runs = []
    for i in range(args.rounds):
        vehicle = vehicle_create(name=f"bench import {time.time_ns()}").vehicle
        started = time.perf_counter()
        result = tracklog_import(vehicle=vehicle, data=data, name="bench.csv", batch_size=args.batch_size)
        wall = time.perf_counter() - started
        assert result.stored == result.rows_read - sum(result.rejected.values()), result
        t = result.timings_ms
        runs.append({"rows_per_s": result.stored / wall, **{f"{k}_ms": t[k] for k in PARTS}, "total_ms": wall * 1000.0})
        print(f"round {i + 1}: {result.stored} rows in {wall:.2f} s = {result.stored / wall:,.0f} rows/s ("
              + ", ".join(f"{k} {t[k]:.0f} ms" for k in PARTS) + ")", flush=True)
    median = {k: round(statistics.median(r[k] for r in runs), 1) for k in runs[0]}
    rows = args.rows
    print(json.dumps({"rows": rows, **median,
                      "parse_rows_per_s": round(rows / median["parse_ms"] * 1000.0),
                      "copy_rows_per_s": round(rows / median["copy_ms"] * 1000.0)}))


if __name__ == "__main__":
    main()
