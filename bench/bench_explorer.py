"""Benchmark: the event explorer's loader (events/s) and the seven saved queries on 10 million events.

1. Loader: --lines synthetic events shaped like real upload, task and weather events (about 1.3 KB
   each, as many fields) written as a JSON-lines log and loaded by `events_load`: events per second,
   the whole path (read, parse, flatten, Parquet, manifest). Goal: at least 5,000/s.
2. Queries: a store of --events events over 7 days (a 100-vehicle fleet at the default rates), one
   Parquet file per hour written by DuckDB from SQL (a real load of 10 million lines would take the
   run's time budget), with the columns the loader writes; then each saved query as the explorer
   runs it (groups, series, scanned count): wall time, best of --rounds. Goal: each under 2 s.

    python bench/bench_explorer.py [--lines 200000] [--events 10000000] [--rounds 3] [--dir var/bench-explorer]

Prints one JSON line last (for bench/run_all.py).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import random
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "volttracker.settings")

import django  # noqa: E402

django.setup()

from logging_policy.event_loader import events_load  # noqa: E402
from logging_policy.event_store import DATA, Manifest, Part, manifest_write, sql_text  # noqa: E402
from logging_policy.explore_definition import query_from_definition  # noqa: E402
from logging_policy.explore_run import DuckDBStore, explore_run  # noqa: E402

SEED = importlib.import_module("logging_policy.migrations.0007_seed_saved_queries")
END = datetime(2026, 6, 8, tzinfo=UTC)
DAYS = 7
PARAMS = {"errors-for-session": {"session": "sess-1234"}, "errors-in-deployment": {"deployment": "prod-blue"}}


def real_shaped(i: int, rng: random.Random, at: datetime) -> dict[str, object]:
    """One event with the namespaces and field count of a real one (see docs/events.md)."""
    vehicle = i % 100
    op = rng.choices(["telemetry_upload", "trip_finalize", "external_api.weather", "trips_close_stale"],
                     [90, 4, 3, 3])[0]
    ok = rng.random() > 0.02
    event: dict[str, object] = {
        "timestamp": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"), "operation": op,
        "kind": "http" if op == "telemetry_upload" else "task", "request_id": f"{rng.getrandbits(128):032x}",
        "trace_id": f"{rng.getrandbits(128):032x}", "success": ok, "duration_ms": round(rng.lognormvariate(2, 1), 3),
        "service": {"name": "volttracker", "version": "0.1.0", "instance_id": "bench-1-abcdef12"},
        "deployment": {"id": "prod-blue", "environment": "production", "region": "eu",
                       "deployed_at": "2026-06-01T00:00:00Z"},
        "feature_flags": {"weather_integration": True, "enhanced_route_detection": False, "predictive_range": False},
        "http": {"method": "POST", "route": "api/torque/upload/<str:token>", "path": "/api/torque/upload/[redacted]",
                 "status_code": 200 if ok else 400, "user_agent": "Torque Pro 1.12", "request_size_bytes": 412,
                 "response_size_bytes": 3, "client_network": "203.0.113.0/24"},
        "db": {"queries": 2, "time_ms": round(rng.random() * 5, 3)},
        "timings_ms": {"parse": 0.3, "auth": 1.1, "db_insert": round(rng.random() * 3, 3)},
        "vehicle": {"id": vehicle, "total_trips": vehicle * 3, "total_miles": vehicle * 40.5,
                    "account_age_days": vehicle * 4, "usage_tier": "heavy" if vehicle < 10 else "light",
                    "battery_capacity_kwh": 14.1, "capacity_degradation_percent": 6.2, "avg_kwh_per_mile": 0.27,
                    "kwh_charged": 812.4, "charging_sessions": 90, "avg_tank_mpg": 41.2, "stats_age_seconds": 30.0},
        "telemetry": {"session": f"sess-{i // 500}", "outcome": "stored", "values": 24, "has_gps": True,
                      "soc_percent": 61.5, "speed_mph": 38.2, "rejected_keys": []},
        "business": {},
        "sampling": {"reason": "operation_rate", "rate": 0.05, "sample_rate": 20.0, "policy_version": 3,
                     "policy_source": "cache"},
    }
    if not ok:
        event["error"] = {"code": "E300", "name": "missing_timestamp", "category": "parsing", "severity": "warning",
                          "alert": False, "retriable": False, "message": "The upload has no `time`."}
    return event


def bench_loader(work: Path, lines: int) -> dict[str, float]:
    rng = random.Random(2026)
    log, store = work / "loader.jsonl", work / "loader-store"
    start = datetime.now(UTC) - timedelta(hours=6)
    step = timedelta(hours=6) / lines
    with log.open("wb") as out:
        for i in range(lines):
            out.write(orjson.dumps(real_shaped(i, rng, start + step * i)) + b"\n")
    size = log.stat().st_size
    started = time.perf_counter()
    result = events_load(log=log, store=store, retention_days=30)
    wall = time.perf_counter() - started
    assert result.loaded == lines and result.malformed == 0, result
    print(f"loader: {lines:,} events ({size / lines:.0f} bytes each) in {wall:.2f} s = {lines / wall:,.0f} events/s, "
          f"{result.files_written} files", flush=True)
    return {"loader_events_per_s": round(lines / wall), "loader_event_bytes": round(size / lines)}


SYNTHETIC = """
SELECT
  TIMESTAMP '{start}' + to_microseconds(CAST(i * {step_us} AS BIGINT)) AS "timestamp",
  CASE WHEN h1 < 900 THEN 'telemetry_upload' WHEN h1 < 940 THEN 'trip_finalize'
       WHEN h1 < 970 THEN 'external_api.weather' WHEN h1 < 985 THEN 'trip_weather' ELSE 'trips_close_stale' END
    AS operation,
  CASE WHEN h1 < 900 THEN 'http' WHEN h1 < 970 AND h1 >= 940 THEN 'external_call' ELSE 'task' END AS kind,
  md5(CAST(i AS VARCHAR)) AS request_id,
  md5(CAST(i + 1 AS VARCHAR)) AS trace_id,
  h2 >= 20 AS success,
  CASE WHEN h1 >= 900 AND h1 < 940 THEN 50.0 + h3 * 3.0 ELSE 2.0 + h3 / 20.0 END AS duration_ms,
  CASE WHEN h4 < 800 THEN 'prod-blue' ELSE 'stage-green' END AS "deployment.id",
  CASE WHEN h4 < 800 THEN 'production' ELSE 'staging' END AS "deployment.environment",
  i % 100 AS "vehicle.id",
  CASE WHEN i % 100 < 10 THEN 'heavy' WHEN i % 100 < 40 THEN 'moderate' WHEN i % 100 < 90 THEN 'light'
       ELSE 'new' END AS "vehicle.usage_tier",
  CASE WHEN i % 100 >= 90 THEN (i % 100) - 80 ELSE 100 + i % 100 END AS "vehicle.account_age_days",
  'sess-' || CAST(i // 500 AS VARCHAR) AS "telemetry.session",
  CASE WHEN h2 < 20 THEN (CASE WHEN h1 < 900 THEN 'E300' WHEN h1 < 940 THEN 'E202' WHEN h1 < 970 THEN 'E100'
                               ELSE 'E500' END) END AS "error.code",
  CASE WHEN h1 >= 900 AND h1 < 940 AND h2 >= 20 THEN TRUE END AS "business.trip_finalized",
  CASE WHEN h1 >= 900 AND h1 < 940 THEN i // 50 END AS "trip.id",
  h3 / 100.0 AS "db.time_ms",
  CASE WHEN h2 < 20 OR i % 100 < 10 OR h1 >= 900 THEN 1.0 WHEN i % 100 >= 90 THEN 0.25 ELSE 0.05 END
    AS "sampling.rate",
  1.0 / (CASE WHEN h2 < 20 OR i % 100 < 10 OR h1 >= 900 THEN 1.0 WHEN i % 100 >= 90 THEN 0.25 ELSE 0.05 END)
    AS "sampling.sample_rate",
  '{{"request_id":"' || md5(CAST(i AS VARCHAR)) || '","operation":"synthetic","n":' || CAST(i AS VARCHAR) || '}}'
    AS "_raw"
FROM (SELECT i, hash(i) % 1000 AS h1, hash(i * 7 + 1) % 1000 AS h2, hash(i * 13 + 2) % 1000 AS h3,
             hash(i * 31 + 3) % 1000 AS h4
      FROM range({first}, {last}) t(i))
"""


def store_build(store: Path, events: int) -> float:
    """One Parquet file per hour of the 7 days before END, rows spread evenly; the manifest naming them."""
    shutil.rmtree(store, ignore_errors=True)
    (store / DATA).mkdir(parents=True)
    hours = DAYS * 24
    start = END - timedelta(days=DAYS)
    step_us = DAYS * 86400 * 1e6 / events
    per_hour = events // hours
    con = duckdb.connect()
    manifest = Manifest()
    started = time.perf_counter()
    for h in range(hours):
        first, last = h * per_hour, (h + 1) * per_hour if h < hours - 1 else events
        hour = (start + timedelta(hours=h)).strftime("%Y-%m-%dT%H")
        name = f"events-{hour.replace('-', '').replace('T', '')}-{h + 1:08d}.parquet"
        sql = SYNTHETIC.format(start=start.strftime("%Y-%m-%d %H:%M:%S"), step_us=step_us, first=first, last=last)
        con.execute(f"COPY ({sql}) TO {sql_text(str(store / DATA / name))} (FORMAT parquet, COMPRESSION zstd)")
        manifest.parts.append(Part(name=name, hour=hour, rows=last - first))
    manifest.seq = hours
    manifest.loaded_total = events
    manifest_write(store, manifest)
    return time.perf_counter() - started


def bench_queries(store: Path, rounds: int) -> dict[str, float]:
    times: dict[str, float] = {}
    policy = {"new_vehicle_days": 30, "default_slow_threshold_ms": 1000, "heavy_min_trips": 100,
              "moderate_min_trips": 20}
    for saved in SEED.QUERIES:
        slug = saved["slug"]
        query = query_from_definition(saved["definition"], params=PARAMS.get(slug, {}), policy=policy,
                                      now=END, retention_days=30, limit=1000)
        best = float("inf")
        for _ in range(rounds):
            started = time.perf_counter()
            opened = DuckDBStore(store_dir=store, log=None, tail_max_bytes=0, time_limit_s=60,
                                 hour_from=query.start.strftime("%Y-%m-%dT%H"),
                                 hour_to=query.end.strftime("%Y-%m-%dT%H"))
            try:
                answer = explore_run(query, opened)
            finally:
                opened.close()
            best = min(best, time.perf_counter() - started)
        times[slug] = round(best, 3)
        print(f"{slug:28s} {best:6.3f} s  {len(answer.rows)} groups, {answer.events_matched:,} matched of "
              f"{answer.events_scanned:,} scanned", flush=True)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=ROOT / "var" / "bench-explorer")
    args = parser.parse_args()
    shutil.rmtree(args.dir, ignore_errors=True)
    args.dir.mkdir(parents=True)
    try:
        loader = bench_loader(args.dir, args.lines)
        built = store_build(args.dir / "store", args.events)
        size = sum(p.stat().st_size for p in (args.dir / "store" / DATA).iterdir())
        print(f"store: {args.events:,} events in {DAYS * 24} hourly files, {size / 1e6:.0f} MB, built in {built:.0f} s",
              flush=True)
        queries = bench_queries(args.dir / "store", args.rounds)
    finally:
        shutil.rmtree(args.dir, ignore_errors=True)
    print(json.dumps({**loader, "events": args.events, "store_mb": round(size / 1e6), "queries_s": queries,
                      "slowest_query_s": max(queries.values())}))


if __name__ == "__main__":
    main()
