"""`make bench`: every benchmark in turn (each prints its own report), then one summary table.

    DATABASE_URL=postgres://.../volttracker_bench REDIS_URL=... python bench/run_all.py

Creates and migrates the database named in DATABASE_URL if needed (PostgreSQL). The arguments
below keep the whole run under 10 minutes on a 2-core machine; each script's docstring gives
its full-length form. Figures go to docs/benchmarks.md by hand, with the date and machine.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.pgdb import database_ensure

ROOT = Path(__file__).resolve().parent.parent
RUNS: list[tuple[str, list[str]]] = [
    ("queries", ["bench/bench_queries.py"]),
    ("events", ["bench/bench_events.py", "--n", "3000", "--rounds", "5"]),
    ("event_instructions", ["bench/bench_event_instructions.py", "--events", "3000"]),
    ("overhead", ["bench/bench_overhead.py", "--n", "100", "--rounds", "5"]),
    ("overhead_instructions", ["bench/bench_overhead_instructions.py", "--requests", "200"]),
    ("ingest", ["bench/bench_ingest.py", "--seconds", "4", "--rounds", "6"]),
    ("sampling", ["bench/bench_sampling.py", "--events", "1000000"]),
    ("sampling_instructions", ["bench/bench_sampling_instructions.py", "--decisions", "20000"]),
    ("stats", ["bench/bench_stats.py", "--sizes", "1000", "10000", "--trips", "100", "--rounds", "2"]),
    ("import", ["bench/bench_import.py", "--rows", "50000", "--rounds", "3"]),
    ("explorer", ["bench/bench_explorer.py", "--lines", "200000", "--events", "10000000", "--rounds", "2"]),
]


def database_prepare(url: str) -> None:
    database_ensure(url)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)


def run(name: str, argv: list[str]) -> dict[str, Any]:
    print(f"\n=== {name}: {' '.join(argv)}", flush=True)
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, *argv], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    last = ""
    assert proc.stdout is not None
    for line in proc.stdout:
        print(line, end="", flush=True)
        if line.startswith("{"):
            last = line
    if proc.wait() != 0 or not last:
        return {"failed": True, "seconds": time.monotonic() - started}
    return {**json.loads(last), "seconds": time.monotonic() - started}


def rows(r: dict[str, dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    out: list[tuple[str, str, str, str]] = []

    def add(key: str, label: str, figure: Any, goal: str, met: Any) -> None:
        if r[key].get("failed"):
            out.append((label, "FAILED", goal, "no"))
        else:
            out.append((label, figure(r[key]), goal, "yes" if met(r[key]) else "NO"))

    add("overhead", "wide events, 5 % keep: slower by", lambda x: f"{(x['5%']['ratio'] - 1) * 100:.1f} % "
        f"(+{x['5%']['added_us']:.0f} us/request)", "<= 5 %", lambda x: x["5%"]["ratio"] <= 1.05)
    add("overhead", "wide events, 100 % keep: slower by", lambda x: f"{(x['100%']['ratio'] - 1) * 100:.1f} % "
        f"(+{x['100%']['added_us']:.0f} us/request)", "-", lambda x: True)
    add("overhead_instructions", "  the same in instructions, 5 % / 100 % keep", lambda x: f"{x['added_5pct']:+.2f} % "
        f"/ {x['added_100pct']:+.2f} % (callgrind)", "<= 5 %", lambda x: x["added_5pct"] <= 5)
    add("events", "one kept upload event (build..write)", lambda x: f"{x['event_us']:.1f} us "
        f"({x['event_us'] / x['plain_line_us']:.2f}x a plain {x['plain_line_us']:.1f} us log line)", "<= ~25 us",
        lambda x: x["event_us"] <= 25)
    add("events", "  the same, fields computed as the view does", lambda x: f"{x['described_event_us']:.1f} us "
        "(+ vehicle context, reading summary)", "<= ~25 us", lambda x: x["described_event_us"] <= 25)
    add("events", "  the same in a request (real middleware)", lambda x: f"{x['whole_event_us']:.1f} us "
        "(less the view without events)", "-", lambda x: True)
    add("event_instructions", "one kept upload event, instructions", lambda x: f"{x['instructions']:,} "
        "(callgrind)", "-", lambda x: True)
    add("ingest", "ingest: upload / one-INSERT baseline", lambda x: f"{x['ratio'] * 100:.0f} % "
        f"({x['upload']['rps']:.0f} vs {x['baseline']['rps']:.0f} req/s)", ">= 70 %", lambda x: x["ratio"] >= 0.70)
    add("ingest", "ingest: upload p50 / p99", lambda x: f"{x['upload']['p50_ms']:.1f} / {x['upload']['p99_ms']:.1f} ms",
        "-", lambda x: True)
    add("queries", "queries per steady-state upload", lambda x: f"{x['queries']} (+ "
        f"{'/'.join(x['transaction_control']) or 'none'})", "2", lambda x: x["queries"] <= 2)
    add("sampling", "sampling decisions/s (1M events)", lambda x: f"{x['decisions_per_s']:,} "
        f"({x['decide_us']} us)", "<= 3 us", lambda x: x["decide_us"] <= 3)
    add("sampling_instructions", "sampling decide, instructions", lambda x: f"{x['instructions']:,}", "-",
        lambda x: True)
    add("sampling", "sampling: weighted count error", lambda x: f"{x['weighted_error_pct']:+.2f} % "
        f"(worst profile {x['worst_profile_error_pct']:.2f} %)", "~0", lambda x: abs(x["weighted_error_pct"]) < 2)
    add("stats", "stats refresh all, 10k vehicles", lambda x: f"{x['refresh_all_s'].get('10000', float('nan')):.2f} s "
        f"(x{x.get('ratio', float('nan'))} for x{x.get('data_ratio', '?')} data)", "<= 10 s",
        lambda x: x["refresh_all_s"].get("10000", 99) <= 10)
    add("stats", "stats refresh, one vehicle", lambda x: f"{x['one_vehicle_ms']:.1f} ms", "<= 10 ms",
        lambda x: x["one_vehicle_ms"] <= 10)
    add("import", "track-log import, 50k rows (parse/COPY/detect/finalize/commit)", lambda x: f"{x['rows_per_s']:,.0f} "
        "rows/s (" + " / ".join(f"{x[k + '_ms'] / 1000:.1f}" for k in ("parse", "copy", "detect", "finalize", "commit"))
        + " s)", ">= 20,000",
        lambda x: x["rows_per_s"] >= 20_000)
    add("explorer", "explorer: loader, real-shaped events", lambda x: f"{x['loader_events_per_s']:,} events/s "
        f"({x['loader_event_bytes']} bytes each)", ">= 5,000", lambda x: x["loader_events_per_s"] >= 5000)
    add("explorer", "explorer: slowest saved query, 10M events", lambda x: f"{x['slowest_query_s']:.2f} s "
        f"(of 7; {x['store_mb']} MB store)", "< 2 s", lambda x: x["slowest_query_s"] < 2)
    return out


def main() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("make bench needs PostgreSQL: set DATABASE_URL (the Makefile's default is BENCH_DATABASE_URL)")
    database_prepare(url)
    started = time.monotonic()
    results = {name: run(name, argv) for name, argv in RUNS}
    table = rows(results)
    width = max(len(t[0]) for t in table), max(len(t[1]) for t in table), max(len(t[2]) for t in table)
    print(f"\n=== summary  {time.strftime('%Y-%m-%d %H:%M %Z')}  {platform.node()}  {os.cpu_count()} CPUs  "
          f"python {platform.python_version()}  load {os.getloadavg()[0]:.1f}  "
          f"({time.monotonic() - started:.0f} s)")
    print(f"{'benchmark':<{width[0]}}  {'figure':<{width[1]}}  {'goal':<{width[2]}}  met")
    for label, figure, goal, met in table:
        print(f"{label:<{width[0]}}  {figure:<{width[1]}}  {goal:<{width[2]}}  {met}")
    if any(r.get("failed") for r in results.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
