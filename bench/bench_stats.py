"""Benchmark: refresh lifetime statistics of all vehicles (and of one) at 1,000 and 10,000 vehicles.

Each size has its own PostgreSQL database (`<prefix>_<n>`, default prefix
`volttracker_bench_stats`), migrated and filled once, server-side with
generate_series: N vehicles x T finished trips, one BECM capacity sample per trip,
a charging session every 3 trips and a refuel every 10. Timings are taken in
fresh child processes, interleaved across sizes round by round, and the medians
are reported with the 10k/1k ratio (docs/benchmarks.md, "Statistics refresh").

`--baseline DIR` also times the code of another checkout (e.g. `git archive HEAD~3 | tar -x -C DIR`)
on the same databases, interleaved with this one in every round, and reports the ratio.

    /work/main/.venv/bin/python bench/bench_stats.py [--sizes 1000 10000] [--trips 100] [--rounds 3]
        [--db-prefix NAME] [--baseline DIR]

Prints one JSON line last (for bench/run_all.py; `make bench` runs 2 rounds).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = "postgres://postgres@127.0.0.1:5432"

sys.path.insert(0, str(ROOT))
from bench.pgdb import database_ensure, database_recreate  # noqa: E402

FILL_SQL = [
    """INSERT INTO telemetry_vehicle (name, torque_device_id, token_hash, fuel_tank_gallons, nominal_battery_kwh,
                                      created_at)
       SELECT 'bench ' || i, '', md5('bench-' || i), 8.9, 18.4, now() - interval '3 years'
       FROM generate_series(1, %(vehicles)s) AS i""",
    # Distances 5-44 mi; electric up to 26-35 mi, the rest on gas at 40 mpg; 0.28 kWh/mile.
    """INSERT INTO telemetry_trip (vehicle_id, session, trip_key, started_at, last_reading_at, last_received_at,
                                   ended_at, is_closed, reading_count, soc_at_gas_entry, gas_mode_entered_at,
                                   distance_miles, distance_source, electric_miles, gas_miles, electric_kwh_used,
                                   kwh_per_mile, fuel_used_gallons, gas_mpg, start_soc, end_soc, notes, finalized_at,
                                   fuel_window, weather_conditions)
       SELECT v.id, j::text, 't' || j, ts, ts + d.minutes, ts + d.minutes, ts + d.minutes, true, 300,
              CASE WHEN d.gas > 0 THEN 14 + (j %% 5) END, CASE WHEN d.gas > 0 THEN ts + d.minutes / 2 END,
              d.dist, 'odometer', d.dist - d.gas, d.gas, (d.dist - d.gas) * 0.28, 0.28, d.gas / 40.0,
              CASE WHEN d.gas >= 0.8 THEN 40.0 END, 90, 20, '{}'::jsonb, ts + d.minutes, '[]'::jsonb, ''
       FROM telemetry_vehicle v
       CROSS JOIN generate_series(1, %(trips)s) AS j
       CROSS JOIN LATERAL (SELECT timestamptz '2024-01-01' + (j * 11 + v.id %% 7) * interval '1 hour' AS ts) AS s
       CROSS JOIN LATERAL (
           SELECT 5 + (v.id * 31 + j * 17) %% 40 AS dist,
                  GREATEST(5 + (v.id * 31 + j * 17) %% 40 - (26 + j %% 10), 0) AS gas,
                  interval '1 minute' * (10 + j %% 50) AS minutes
       ) AS d""",
    """INSERT INTO telemetry_batteryhealthsample (vehicle_id, trip_id, capacity_kwh, is_estimate, odometer_miles,
                                                  lifetime_miles, at)
       SELECT t.vehicle_id, t.id, 17.0 - t.cum * 0.00004 + ((t.id %% 7) - 3) * 0.05, false, 20000 + t.cum, t.cum,
              t.ended_at
       FROM (SELECT id, vehicle_id, ended_at,
                    SUM(distance_miles) OVER (PARTITION BY vehicle_id ORDER BY started_at) AS cum
             FROM telemetry_trip) AS t""",
    # An evening charge after every third trip: 8-11 kWh.
    """INSERT INTO telemetry_chargingsession (vehicle_id, started_at, ended_at, last_reading_at, last_received_at,
                                              start_soc, end_soc, kwh_integrated, charging_seconds, kwh_added,
                                              kwh_source, peak_power_kw, avg_power_kw, level, power_curve,
                                              curve_stride_s, reading_count, is_complete, closed_at, closed_reason)
       SELECT t.vehicle_id, t.ended_at + interval '1 hour', t.ended_at + interval '4 hours',
              t.ended_at + interval '4 hours', t.ended_at + interval '4 hours', 20, 90, 8 + t.id %% 4, 10800,
              8 + t.id %% 4, 'integrated', 3.3, 3.0, 'L2', '[]'::jsonb, 30, 720, true,
              t.ended_at + interval '4 hours', 'stale'
       FROM telemetry_trip t WHERE substring(t.trip_key from 2)::int %% 3 = 0""",
    # A refuel after every tenth trip, at the odometer of that trip's battery sample.
    """INSERT INTO telemetry_refuel (vehicle_id, trip_id, detected_at, odometer_miles, level_before, level_after,
                                     gallons_added)
       SELECT t.vehicle_id, t.id, t.ended_at + interval '30 minutes', s.odometer_miles, 15 + t.id %% 10, 95,
              (80 - t.id %% 10) / 100.0 * 8.9
       FROM telemetry_trip t JOIN telemetry_batteryhealthsample s ON s.trip_id = t.id
       WHERE substring(t.trip_key from 2)::int %% 10 = 0""",
    "ANALYZE",
]


def database_url(prefix: str, size: int) -> str:
    return f"{SERVER}/{prefix}_{size}"


def prepare(prefix: str, size: int, trips: int) -> None:
    """Create, migrate and fill the size's database unless it already holds exactly this data."""
    import psycopg2

    name = f"{prefix}_{size}"
    url = database_url(prefix, size)
    database_ensure(url)
    env = {**os.environ, "DATABASE_URL": url}
    if subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env).returncode != 0:
        # A database left by another checkout (other migration names): it only holds generated data.
        print(f"{name}: migrations do not apply; recreating it", file=sys.stderr)
        database_recreate(url)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    conn = psycopg2.connect(database_url(prefix, size))
    with conn, conn.cursor() as cur:
        cur.execute("SELECT (SELECT count(*) FROM telemetry_vehicle), (SELECT count(*) FROM telemetry_trip),"
                    " (SELECT count(*) FROM telemetry_refuel)")
        if cur.fetchone() == (size, size * trips, size * (trips // 10)):
            return
        cur.execute("TRUNCATE telemetry_vehicle RESTART IDENTITY CASCADE")
        started = time.perf_counter()
        for sql in FILL_SQL:
            cur.execute(sql, {"vehicles": size, "trips": trips})
        print(f"filled {name}: {size} vehicles x {trips} trips in {time.perf_counter() - started:.1f} s",
              file=sys.stderr)
    conn.close()


def measure(root: Path) -> None:
    """Child process: time one refresh of all vehicles, then single vehicles, with the code under `root`."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "volttracker.settings")
    sys.path.insert(0, str(root))
    django.setup()
    from django.db import connection

    from telemetry.models import Vehicle
    from telemetry.stats import vehicle_stats_refresh, vehicle_stats_refresh_all

    with connection.cursor() as cur:
        cur.execute("SELECT 1")  # connect outside the timing
    started = time.perf_counter()
    summary = vehicle_stats_refresh_all()
    all_s = time.perf_counter() - started
    ids = list(Vehicle.objects.order_by("?").values_list("pk", flat=True)[:25])
    one_ms = []
    for vehicle_id in ids:
        started = time.perf_counter()
        vehicle_stats_refresh(vehicle_id=vehicle_id)
        one_ms.append((time.perf_counter() - started) * 1000)
    print(json.dumps({"all_s": all_s, "vehicles": summary.vehicles, "statements": summary.statements,
                      "one_ms_median": statistics.median(one_ms), "one_ms_max": max(one_ms)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--trips", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db-prefix", default="volttracker_bench_stats")
    parser.add_argument("--baseline", type=Path, help="another checkout's root, timed alongside")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure)
        return
    for size in args.sizes:
        prepare(args.db_prefix, size, args.trips)
    roots = {"this": ROOT, **({"baseline": args.baseline.resolve()} if args.baseline else {})}
    runs: dict[tuple[str, int], list[dict[str, float]]] = {(c, size): [] for c in roots for size in args.sizes}
    for _ in range(args.rounds):
        for size in args.sizes:  # interleaved: each round runs every size (and each code) once
            for code, root in roots.items():
                env = {**os.environ, "DATABASE_URL": database_url(args.db_prefix, size)}
                out = subprocess.run([sys.executable, __file__, "--measure", str(root)], cwd=root, env=env,
                                     check=True, capture_output=True, text=True).stdout
                runs[(code, size)].append(json.loads(out.strip().splitlines()[-1]))
    for code in roots:
        report(code, {size: runs[(code, size)] for size in args.sizes}, args)
    if args.baseline:
        for size in args.sizes:
            this, base = (statistics.median(r["all_s"] for r in runs[(c, size)]) for c in ("this", "baseline"))
            print(f"{size} vehicles: refresh all, this / baseline = {this / base:.2f}")


def report(code: str, results: dict[int, list[dict[str, float]]], args: argparse.Namespace) -> None:
    print(f"[{code}] {time.strftime('%Y-%m-%d %H:%M %Z')}  {platform.node()}  {os.cpu_count()} cores  "
          f"{args.trips} trips/vehicle, {args.rounds} rounds, medians")
    print(f"{'vehicles':>9} {'trips':>10} {'refresh all (s)':>16} {'statements':>10} {'one vehicle (ms)':>17}"
          f" {'one max (ms)':>13}")
    medians = {}
    for size, runs in results.items():
        medians[size] = statistics.median(r["all_s"] for r in runs)
        print(f"{size:>9} {size * args.trips:>10} {medians[size]:>16.2f} {int(runs[0]['statements']):>10}"
              f" {statistics.median(r['one_ms_median'] for r in runs):>17.2f}"
              f" {max(r['one_ms_max'] for r in runs):>13.2f}")
    summary: dict[str, object] = {"bench": "stats", "refresh_all_s": {str(k): round(v, 3) for k, v in medians.items()},
                                  "one_vehicle_ms": round(max(statistics.median(r["one_ms_median"] for r in runs)
                                                              for runs in results.values()), 2)}
    if len(args.sizes) >= 2:
        small, large = min(args.sizes), max(args.sizes)
        print(f"time ratio {large}/{small}: {medians[large] / medians[small]:.2f} (data ratio {large / small:.0f})")
        summary["ratio"] = round(medians[large] / medians[small], 2)
        summary["data_ratio"] = large // small
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
